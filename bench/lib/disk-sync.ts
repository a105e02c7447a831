/**
 * The disk's floor under QoS 1 latency: how long a small synced LevelDB batch takes on the disk the
 * gateway writes to. The gateway acknowledges a QoS 1 message, and aedes routes it, only after such a
 * batch (src/broker/intake.ts), so its tail is a lower bound of the publish→deliver tail; mosquitto
 * with `persistence false` never waits for the disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Level } from 'level';
import { percentileSorted } from './stats.js';

export interface SyncTimes { n: number; p50: number; p99: number; max: number }

/** Paced synced batches (5 outbox-sized puts each, one every millisecond or so) for `durationMs`. */
export async function measureSyncedBatches(dir: string, durationMs: number): Promise<SyncTimes> {
  const root = mkdtempSync(path.join(dir, 'disk-sync-'));
  const db = new Level<string, Buffer>(root, { valueEncoding: 'buffer' });
  const times: number[] = [];
  try {
    await db.open();
    const value = Buffer.alloc(250, 0x61);
    let seq = 0;
    const end = performance.now() + durationMs;
    while (performance.now() < end) {
      const ops = Array.from({ length: 5 }, () => ({ type: 'put' as const, key: String(seq++).padStart(16, '0'), value }));
      const t0 = performance.now();
      await db.batch(ops, { sync: true });
      times.push(performance.now() - t0);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  } finally {
    await db.close();
    rmSync(root, { recursive: true, force: true });
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentileSorted(sorted, 50), p99: percentileSorted(sorted, 99), max: sorted[sorted.length - 1] ?? 0 };
}
