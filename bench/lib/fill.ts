/**
 * Pre-fills a fresh data directory's store with N device records, as if registered through the API:
 * one real hash (the format the gateway writes today, src/auth/secrets.ts) of one password is
 * reused, so every record has its real size and every device logs in with the same password (the
 * gateway still verifies each login against the stored hash). Also creates the first admin key
 * (admin.key) and, optionally, an application key with the `mqtt` scope, and `usageDays` days of
 * usage rows for every device (the days before today, UTC), as a gateway that has run for a month
 * holds them. The gateway must not be running on `dataDir`.
 */
import { Store, SYNC } from '../../src/store/store.js';
import { ApiKeys } from '../../src/auth/api-keys.js';
import { createLogger } from '../../src/log.js';
import { hashPassword, randomString } from '../../src/auth/secrets.js';
import type { DeviceRecord } from '../../src/devices/device.js';
import type { UsageCounters } from '../../src/metering/usage.js';
import { writeTotalsOfAllRows } from '../../src/metering/usage-totals.js';

export interface FillResult {
  /** Device ids in registration order: `iot_dev_` + 12 base-36 digits of the index. */
  ids: string[];
  /** The password of every device. */
  password: string;
  /** The application key (scope `mqtt`) when one was asked for. */
  appKey?: { name: string; key: string };
}

export function benchDeviceId(i: number): string {
  return `iot_dev_${i.toString(36).padStart(12, '0')}`;
}

/**
 * Days of usage history the bench's stores hold: a month, the most a gateway's meter reads at start
 * (the month's rows) and what `GET /usage` over the last 30 days reads.
 */
export const USAGE_DAYS = 30;

export async function fillStore(dataDir: string, count: number, opts: { appKeyName?: string; usageDays?: number } = {}): Promise<FillResult> {
  const store = new Store(dataDir);
  await store.start();
  try {
    const keys = new ApiKeys({ store, dataDir, log: createLogger('silent') });
    const stderrWrite = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write; // the first-start key banner
    try { await keys.start(); } finally { process.stderr.write = stderrWrite; }
    let appKey: FillResult['appKey'];
    if (opts.appKeyName) {
      const { key } = await keys.create(opts.appKeyName, ['mqtt']);
      appKey = { name: opts.appKeyName, key };
    }
    const password = randomString(32);
    const hash = hashPassword(password);
    const devices = store.json<DeviceRecord>('devices');
    const now = Date.now();
    const ids: string[] = [];
    for (let start = 0; start < count; start += 1000) {
      const batch = [];
      for (let i = start; i < Math.min(count, start + 1000); i++) {
        const id = benchDeviceId(i);
        ids.push(id);
        const iso = new Date(now + i).toISOString().replace(/\.\d{3}Z$/, 'Z');
        batch.push({ type: 'put' as const, key: id, value: { device_id: id, name: `Sensor ${i}`, description: 'bench device', type: 'sensor', metadata: { floor: i % 10, room: `r${i % 97}` }, status: 'active' as const, password_hash: hash, created_at: iso, updated_at: iso, created_ms: now + i } });
      }
      await devices.batch(batch, SYNC);
    }
    await fillUsage(store, ids, opts.usageDays ?? 0);
    await keys.stop();
    return { ids, password, ...(appKey ? { appKey } : {}) };
  } finally {
    await store.stop();
  }
}

/** The UTC day `daysBack` days before today (YYYY-MM-DD). */
export function daysAgo(daysBack: number): string {
  return new Date(Date.now() - daysBack * 86_400_000).toISOString().slice(0, 10);
}

/** One row per device and day for the `days` days before today (a sensor reporting every 10 s, 200 B), and their totals. */
async function fillUsage(store: Store, ids: readonly string[], days: number): Promise<void> {
  const usage = store.json<UsageCounters>('usage');
  for (let back = 1; back <= days; back++) {
    const day = daysAgo(back);
    for (let start = 0; start < ids.length; start += 5000) {
      const batch = ids.slice(start, start + 5000).map((id, i) => ({
        type: 'put' as const,
        key: `${day}!${id}`,
        value: { messages_in: 8640 - ((start + i) % 7), messages_out: 24, bytes_in: 1_728_000, bytes_out: 2_400, throttled: 0, rejected: 0 },
      }));
      await usage.batch(batch);
    }
  }
  // The totals rows a running gateway keeps beside them (src/metering/usage.ts).
  await writeTotalsOfAllRows(usage);
}
