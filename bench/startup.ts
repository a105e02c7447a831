/**
 * Start-to-ready with N registered devices (default 10,000): fills a fresh data directory's store
 * with N device records (one real scrypt hash reused, so the records have their real size), then
 * starts the gateway process R times and reports the time from spawn to the 'ready' log line and to
 * the first 200 from /readyz, plus the gateway's own start_ms. Usage:
 *   node dist/bench/startup.js [--devices 10000] [--runs 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store, SYNC } from '../src/store/store.js';
import { ApiKeys } from '../src/auth/api-keys.js';
import { createLogger } from '../src/log.js';
import { hashPassword, randomString } from '../src/auth/secrets.js';
import type { DeviceRecord } from '../src/devices/device.js';
import { spawnGateway } from '../test/helpers/spawn.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function fill(dataDir: string, count: number): Promise<void> {
  const store = new Store(dataDir);
  await store.start();
  const keys = new ApiKeys({ store, dataDir, log: createLogger('silent') });
  const stderrWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write; // the first-start key banner
  await keys.start();
  process.stderr.write = stderrWrite;
  const hash = await hashPassword(randomString(32));
  const devices = store.json<DeviceRecord>('devices');
  const now = Date.now();
  for (let start = 0; start < count; start += 1000) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      const id = `iot_dev_${i.toString(36).padStart(12, '0')}`;
      const iso = new Date(now + i).toISOString().replace(/\.\d{3}Z$/, 'Z');
      batch.push({ type: 'put' as const, key: id, value: { device_id: id, name: `Sensor ${i}`, description: 'bench device', type: 'sensor', metadata: { floor: i % 10, room: `r${i % 97}` }, status: 'active' as const, password_hash: hash, created_at: iso, updated_at: iso, created_ms: now + i } });
    }
    await devices.batch(batch, SYNC);
  }
  await keys.stop();
  await store.stop();
}

async function main(): Promise<void> {
  const count = arg('devices', 10_000);
  const runs = arg('runs', 5);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ways-edge-bench-start-'));
  try {
    await fill(dataDir, count);
    const rows: Array<{ spawnToReadyMs: number; gatewayStartMs: number }> = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const gw = await spawnGateway(dataDir, { WAYS_EDGE_LOG_LEVEL: 'info' });
      const spawnToReadyMs = performance.now() - t0;
      const ready = gw.logs.find((l) => l.event === 'ready');
      rows.push({ spawnToReadyMs, gatewayStartMs: Number(ready?.start_ms ?? NaN) });
      if (Number(ready?.devices) !== count) throw new Error(`gateway saw ${String(ready?.devices)} devices, expected ${count}`);
      await gw.stop();
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    console.log(`start to ready with ${count} devices, ${runs} runs (median):`);
    console.log(`  process spawn → 'ready' log: ${median(rows.map((r) => r.spawnToReadyMs)).toFixed(0)} ms (includes Node start and module loading)`);
    console.log(`  gateway start() → ready:     ${median(rows.map((r) => r.gatewayStartMs)).toFixed(0)} ms`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
