import t from 'tap';
import { Backoff } from '../../src/uplink/backoff.js';

const seq = (b: Backoff, n: number): number[] => Array.from({ length: n }, () => b.next());

t.test('delays double from min and are capped at max', async (t) => {
  const low = new Backoff({ minMs: 1000, maxMs: 60_000, random: () => 0 });
  t.same(seq(low, 8), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000], 'lowest draw: the floor of each step, never under min');
  const high = new Backoff({ minMs: 1000, maxMs: 60_000, random: () => 0.999999 });
  t.same(seq(high, 8), [2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000], 'highest draw: the ceiling, never over max');
  const many = new Backoff({ minMs: 10, maxMs: 50 });
  t.ok(seq(many, 1000).every((d) => d >= 10 && d <= 50), 'a thousand draws, all within [min, max]');
});

t.test('delays are jittered, also at the cap', async (t) => {
  const draws = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const b = new Backoff({ minMs: 1000, maxMs: 60_000 });
    draws.add(seq(b, 20).at(-1) as number);
  }
  t.ok(draws.size > 10, `gateways that failed 20 times retry at different moments (${draws.size} distinct delays of 50)`);
  t.ok([...draws].every((d) => d >= 30_000 && d <= 60_000), 'at the cap: between max/2 and max');
});

t.test('a stable link resets the policy; a flapping one does not', async (t) => {
  const b = new Backoff({ minMs: 100, maxMs: 10_000, stableMs: 30_000, random: () => 0 });
  seq(b, 5);
  t.equal(b.attempts, 5);
  b.connected(1_000);
  b.disconnected(2_000); // up for 1 s: flapping
  t.equal(b.next(), 3200, 'flapping: keeps backing off');
  b.connected(10_000);
  b.disconnected(40_000); // up for 30 s: stable
  t.equal(b.attempts, 0);
  t.equal(b.next(), 100, 'after a stable link: back to min');
});
