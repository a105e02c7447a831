/**
 * Start-to-ready with N registered devices (default 10,000): fills a fresh data directory's store
 * with N device records (one real password hash reused, so the records have their real size), then
 * starts the gateway process R times and reports the time from spawn to the 'ready' log line and to
 * the first 200 from /readyz, plus the gateway's own start_ms. Usage:
 *   node dist/bench/startup.js [--devices 10000] [--runs 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fillStore } from './lib/fill.js';
import { spawnGateway } from '../test/helpers/spawn.js';
import { numberArg } from './lib/script-args.js';

async function main(): Promise<void> {
  const count = numberArg('devices', 10_000);
  const runs = numberArg('runs', 5);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ways-edge-bench-start-'));
  try {
    await fillStore(dataDir, count);
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
