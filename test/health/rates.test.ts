import t from 'tap';
import { MessageRates } from '../../src/metering/rates.js';

t.test('rates over 1 and 15 minutes from 10-second buckets', async (t) => {
  let now = 1_000_000_000_000; // on a bucket boundary
  const rates = new MessageRates(() => now);
  now += 60_000; // a full minute of history exists
  for (let i = 0; i < 60; i++) rates.record('in', 100);
  rates.record('out', 1000);
  let s = rates.snapshot();
  // The 1-minute window is the current (empty-so-far) bucket plus five full ones: 50 s.
  t.equal(s.in_per_sec_1m, 1.2, '60 messages over the 50 s the window covers');
  t.equal(s.bytes_in_per_sec_1m, 120);
  t.equal(s.out_per_sec_1m, 0.02);
  t.equal(s.in_per_sec_15m, 1, 'the 15-minute window is as old as the gateway (60 s)');

  now += 61_000; // the burst has left the 1-minute window
  s = rates.snapshot();
  t.equal(s.in_per_sec_1m, 0);
  t.ok(s.in_per_sec_15m > 0, 'but not the 15-minute one');

  now += 15 * 60_000;
  s = rates.snapshot();
  t.equal(s.in_per_sec_15m, 0, 'and after 15 minutes it is gone from both');
  t.same(rates.totals, { messages_in: 60, messages_out: 1, bytes_in: 6000, bytes_out: 1000 }, 'totals since start stay');
});

t.test('a fresh gateway reports rates over the time it has run, not diluted by minutes it was off', async (t) => {
  let now = 2_000_000_005_000;
  const rates = new MessageRates(() => now);
  now += 2000;
  for (let i = 0; i < 20; i++) rates.record('in', 10);
  t.equal(rates.snapshot().in_per_sec_1m, 10);
  t.equal(rates.snapshot().in_per_sec_15m, 10);
});

t.test('a long silence clears the ring; a clock stepping back does not corrupt it', async (t) => {
  let now = 3_000_000_000_000;
  const rates = new MessageRates(() => now);
  rates.record('in', 1);
  now += 10 * 24 * 3600_000;
  rates.record('in', 1);
  now -= 30_000;
  rates.record('in', 1);
  now += 30_000;
  const s = rates.snapshot();
  t.equal(s.in_per_sec_1m, 0.04, 'two messages over the 50 s window; the one from 10 days ago is gone');
});
