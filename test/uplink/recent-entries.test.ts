import t from 'tap';
import { RecentEntries } from '../../src/uplink/recent-entries.js';
import type { StoredEntry } from '../../src/uplink/outbox.js';
import { collectGarbage } from '../helpers/gc.js';

function entry(seq: number, size = 100): StoredEntry {
  return { seq, size, deviceId: 'iot_dev_aaaaaaaaaaaa', topic: 'devices/iot_dev_aaaaaaaaaaaa/telemetry', receivedAt: 1_700_000_000_000 + seq, deviceSeq: seq, payload: Buffer.from(`{"n":${seq}}`) };
}
const seqs = (list: StoredEntry[] | undefined): number[] | undefined => list?.map((e) => e.seq);

t.test('hands out committed entries in order, and nothing it may not hold', async (t) => {
  const recent = new RecentEntries({ maxEntries: 100, maxBytes: 1_000_000 });
  recent.reset(10);
  for (let seq = 10; seq < 20; seq++) recent.add(entry(seq));
  t.same(seqs(recent.read(10, 5, 19)), [10, 11, 12, 13, 14], 'the first five');
  t.same(seqs(recent.read(12, 100, 15)), [12, 13, 14, 15], 'only what is committed');
  t.same(seqs(recent.read(16, 100, 15)), [], 'staged but not committed yet: nothing, and no disk read either');
  t.equal(recent.read(9, 10, 19), undefined, 'below what it covers: the caller reads the disk');
});

t.test('the caps push the oldest out, and then those are read from disk', async (t) => {
  const byCount = new RecentEntries({ maxEntries: 3, maxBytes: 1_000_000 });
  byCount.reset(1);
  for (let seq = 1; seq <= 5; seq++) byCount.add(entry(seq));
  t.equal(byCount.length, 3);
  t.equal(byCount.read(2, 10, 5), undefined, 'seq 2 fell out');
  t.same(seqs(byCount.read(3, 10, 5)), [3, 4, 5]);

  const byBytes = new RecentEntries({ maxEntries: 100, maxBytes: 250 });
  byBytes.reset(1);
  for (let seq = 1; seq <= 4; seq++) byBytes.add(entry(seq));
  t.same(seqs(byBytes.read(3, 10, 4)), [3, 4], 'two entries of 100 bytes fit in 250');
  t.equal(byBytes.read(2, 10, 4), undefined);
});

t.test('removed entries go; a failed commit leaves gaps, as on disk', async (t) => {
  const recent = new RecentEntries({ maxEntries: 5000, maxBytes: 10_000_000 });
  recent.reset(1);
  for (let seq = 1; seq <= 3000; seq++) recent.add(entry(seq));
  recent.trimBelow(2001);
  t.equal(recent.length, 1000, 'acknowledged entries are forgotten');
  t.equal(recent.read(2001, 10, 3000)?.[0]?.seq, 2001, 'reads start at the new head');
  t.equal(recent.read(1500, 10, 3000), undefined, 'below it nothing is claimed (the outbox never asks below its head)');
  recent.dropRange(2500, 2600);
  t.same(seqs(recent.read(2499, 3, 3000)), [2499, 2500, 2601], 'the failed commit\'s entries are skipped');
  t.equal(recent.length, 900);
});

t.test('an entry that leaves is let go at once, not held until the array is next compacted', async (t) => {
  // Held on, entries outlived V8's young generation at 5,000 msg/s and were promoted: a mark-compact
  // every two seconds of a paced load (docs/BENCHMARKS.md).
  const recent = new RecentEntries({ maxEntries: 10, maxBytes: 1_000_000 });
  recent.reset(1);
  const refs: Array<WeakRef<StoredEntry>> = [];
  for (let seq = 1; seq <= 5; seq++) {
    const e = entry(seq);
    refs.push(new WeakRef(e));
    recent.add(e);
  }
  recent.trimBelow(4); // 1-3 acknowledged
  for (let seq = 6; seq <= 14; seq++) recent.add(entry(seq)); // 11 entries for 10 places: 4 falls out
  await collectGarbage();
  t.same(refs.map((r) => r.deref()?.seq), [undefined, undefined, undefined, undefined, 5], 'acknowledged and pushed-out entries are collected; the rest stay');
  t.same(seqs(recent.read(5, 20, 14)), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
});
