import type { Test } from 'tap';
import type { Outbox } from '../../../src/uplink/outbox.js';
import type { TestCloud } from './cloud.js';

/**
 * What the uplink promises, checked at the cloud: every message a device got a PUBACK for is there;
 * after dropping duplicates by (outbox_id, device_id, seq), each device's messages arrive with strictly
 * increasing seq and in the order the device sent them. Returns the number of duplicates seen.
 */
export function checkDelivery(t: Test, cloud: TestCloud, acked: Map<string, number[]>): number {
  const unique = cloud.unique();
  const byDevice = new Map<string, Array<{ seq: number; n: number }>>();
  for (const m of unique) {
    const list = byDevice.get(m.device_id) ?? [];
    list.push({ seq: m.seq, n: (m.json as { n: number }).n });
    byDevice.set(m.device_id, list);
  }
  let missing = 0;
  let disordered = 0;
  for (const [device, ns] of acked) {
    const got = byDevice.get(device) ?? [];
    const have = new Set(got.map((g) => g.n));
    missing += ns.filter((n) => !have.has(n)).length;
    for (let i = 1; i < got.length; i++) {
      const a = got[i - 1] as { seq: number; n: number };
      const b = got[i] as { seq: number; n: number };
      if (!(b.seq > a.seq && b.n > a.n)) disordered += 1;
    }
  }
  const ackedCount = [...acked.values()].reduce((a, l) => a + l.length, 0);
  t.equal(missing, 0, `no acknowledged message is missing at the cloud (${ackedCount} acknowledged)`);
  t.equal(disordered, 0, 'per device: seq strictly increasing and payloads in send order');
  const duplicates = cloud.messages.length - unique.length;
  t.comment(`${cloud.messages.length} messages in ${cloud.batches.length} batches received, ${duplicates} duplicates (identified by outbox_id, device_id, seq)`);
  return duplicates;
}

/** Resolves once the outbox holds no entry (event-driven: the outbox says when entries leave it). */
export function outboxEmpty(outbox: Outbox | undefined, timeoutMs = 20_000): Promise<void> {
  if (!outbox) return Promise.reject(new Error('no outbox'));
  if (outbox.count === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`outbox not empty within ${timeoutMs} ms (${outbox.count} left)`)); }, timeoutMs);
    const off = outbox.events.on('removed', () => {
      if (outbox.count === 0) { clearTimeout(timer); off(); resolve(); }
    });
  });
}
