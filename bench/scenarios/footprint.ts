/**
 * Scenario 6 (footprint): idle RSS and idle CPU of each broker (measured side by side: both idle at
 * the same time), and start to ready with 10,000 registered devices.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { sleep, type Ctx } from '../lib/context.js';
import { fillStore } from '../lib/fill.js';
import { GatewayProcess } from '../lib/gateway.js';
import { cpuSeconds, rssSplitKb } from '../lib/proc.js';
import { median } from '../lib/stats.js';
import type { BrokerTarget } from '../lib/rig.js';

const SC = '6. footprint';

export async function idleFootprint(ctx: Ctx, targets: readonly BrokerTarget[], registered: number): Promise<void> {
  const by = new Map<string, { rssKb: number; anonKb: number; fileKb: number; cpuPct: number }>();
  // Let start-up work (first health sample, compaction, JIT) settle first.
  await sleep(ctx.settings.settleMs);
  const t0 = performance.now();
  const cpu0 = targets.map((t) => cpuSeconds(t.pid()));
  await sleep(ctx.settings.idleCpuMs);
  const seconds = (performance.now() - t0) / 1000;
  targets.forEach((t, i) => {
    const cpuPct = (100 * (cpuSeconds(t.pid()) - (cpu0[i] ?? 0))) / seconds;
    const split = rssSplitKb(t.pid());
    by.set(t.label, { rssKb: split.rss, anonKb: split.anon, fileKb: split.file, cpuPct });
  });
  const m = by.get('mosquitto');
  const g = by.get('ways-edge');
  const a = by.get('aedes');
  const of = (pick: (v: { rssKb: number; anonKb: number; fileKb: number; cpuPct: number }) => number): { mosquitto?: number; gateway?: number; aedes?: number } =>
    ({ ...(m ? { mosquitto: pick(m) } : {}), ...(g ? { gateway: pick(g) } : {}), ...(a ? { aedes: pick(a) } : {}) });
  ctx.log(`  idle: ${[...by.entries()].map(([k, v]) => `${k} RSS ${(v.rssKb / 1024).toFixed(1)} MB (anon ${(v.anonKb / 1024).toFixed(1)}, file ${(v.fileKb / 1024).toFixed(1)}), CPU ${v.cpuPct.toFixed(2)}%`).join('; ')}`);
  ctx.report.add({
    scenario: SC, metric: `idle RSS (${registered.toLocaleString('en-US')} devices registered)`, unit: 'MB',
    ...of((v) => v.rssKb / 1024), ...(g ? { met: g.rssKb / 1024 < 60 } : {}), target: '< 60 MB',
  });
  ctx.report.add({
    scenario: SC, metric: 'idle RSS: anonymous part (heaps, buffers)', unit: 'MB',
    ...of((v) => v.anonKb / 1024),
  });
  ctx.report.add({
    scenario: SC, metric: 'idle RSS: file-backed part (executable and libraries, shared)', unit: 'MB',
    ...of((v) => v.fileKb / 1024),
  });
  ctx.report.add({
    scenario: SC, metric: `idle CPU (${Math.round(ctx.settings.idleCpuMs / 1000)} s)`, unit: '% core', ratio: false,
    ...of((v) => v.cpuPct),
  });
}

/** Start to ready with N devices: fill a fresh store (one reused hash, like bench/startup.ts), start R times. */
export async function startupTime(ctx: Ctx, root: string, gatewayEnv: Record<string, string>): Promise<void> {
  const s = ctx.settings;
  const dataDir = mkdtempSync(path.join(root, 'startup-'));
  try {
    await fillStore(dataDir, s.startupDevices);
    const spawnMs: number[] = [];
    const startMs: number[] = [];
    for (let r = 0; r < s.startupRuns; r++) {
      // No uplink here: only the start itself is timed.
      const gw = new GatewayProcess({ name: 'ways-edge-startup', dataDir, env: { ...gatewayEnv, WAYS_EDGE_CLOUD_URL: '' }, nodeArgs: s.gatewayNodeArgs });
      try {
        await gw.start();
        const ready = gw.logs.find((l) => l.event === 'ready');
        if (Number(ready?.devices) !== s.startupDevices) throw new Error(`gateway saw ${String(ready?.devices)} devices, expected ${s.startupDevices}`);
        spawnMs.push(gw.spawnToReadyMs);
        startMs.push(Number(ready?.start_ms ?? NaN));
      } finally {
        await gw.stop();
      }
    }
    const gwStart = median(startMs);
    ctx.log(`  start to ready with ${s.startupDevices} devices: start() ${gwStart.toFixed(0)} ms, spawn→ready ${median(spawnMs).toFixed(0)} ms (runs: ${startMs.join(', ')})`);
    ctx.report.add({ scenario: SC, metric: `start → ready, ${s.startupDevices.toLocaleString('en-US')} devices (gateway start())`, unit: 'ms', gateway: gwStart, target: '< 1 s', met: gwStart < 1000 });
    ctx.report.add({ scenario: SC, metric: 'process spawn → ready (incl. Node start, module loading)', unit: 'ms', gateway: median(spawnMs) });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
