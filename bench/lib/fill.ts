/**
 * Pre-fills a fresh data directory's store with N device records, as if registered through the API:
 * one real hash (the format the gateway writes today, src/auth/secrets.ts) of one password is
 * reused, so every record has its real size and every device logs in with the same password (the
 * gateway still verifies each login against the stored hash). Also creates the first admin key
 * (admin.key) and, optionally, an application key with the `mqtt` scope. The gateway must not be
 * running on `dataDir`.
 */
import { Store, SYNC } from '../../src/store/store.js';
import { ApiKeys } from '../../src/auth/api-keys.js';
import { createLogger } from '../../src/log.js';
import { hashPassword, randomString } from '../../src/auth/secrets.js';
import type { DeviceRecord } from '../../src/devices/device.js';

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

export async function fillStore(dataDir: string, count: number, opts: { appKeyName?: string } = {}): Promise<FillResult> {
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
    await keys.stop();
    return { ids, password, ...(appKey ? { appKey } : {}) };
  } finally {
    await store.stop();
  }
}
