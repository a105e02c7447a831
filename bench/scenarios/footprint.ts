/**
 * Scenario 6 (footprint): idle RSS and idle CPU of each broker (measured side by side: both idle at
 * the same time), and start to ready with 10,000 registered devices. Next to them, the floor that
 * Node itself sets: an idle Node process, and one that has formatted a date with Intl.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { sleep, type Ctx } from '../lib/context.js';
import { USAGE_DAYS, fillStore } from '../lib/fill.js';
import { GatewayProcess } from '../lib/gateway.js';
import { cpuSeconds, rssSplitKb } from '../lib/proc.js';
import { median } from '../lib/stats.js';
import type { BrokerTarget } from '../lib/rig.js';
import { columns, type Columns } from '../lib/report.js';
import { stopChild, track } from '../lib/children.js';
import { unitProcessEnvironment } from '../lib/unit-env.js';

const SC = '6. footprint';

/**
 * Idle Node processes that show what a Node broker holds before its own code: nothing loaded, and
 * ICU's data mapped in by one Intl.DateTimeFormat. node-cron builds one (en-US, with these fields)
 * for every schedule, with or without a time zone, and the gateway's jobs run on node-cron.
 */
const NODE_FLOORS = [
  { metric: 'floor: an idle Node process (no modules)', script: '' },
  {
    metric: 'floor: an idle Node process after one Intl.DateTimeFormat (as node-cron makes)',
    script: "new Intl.DateTimeFormat('en-US', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short', hour12: false }).formatToParts(new Date());",
  },
] as const;

async function startFloor(script: string, name: string): Promise<ChildProcess> {
  // The shipped unit's process environment (malloc tuning), as for the gateway.
  const child = track(spawn(process.execPath, ['-e', `${script} process.stdout.write('ready\\n'); setInterval(() => {}, 1 << 30);`], {
    env: { PATH: process.env.PATH ?? '', ...unitProcessEnvironment() }, stdio: ['ignore', 'pipe', 'inherit'],
  }), name);
  const exited = once(child, 'exit').then(([code]) => { throw new Error(`${name} exited (${String(code)}) before it was ready`); });
  await Promise.race([once(child.stdout!, 'data'), exited]);
  exited.catch(() => undefined); // stopped later on purpose
  return child;
}

export async function idleFootprint(ctx: Ctx, targets: readonly BrokerTarget[], registered: number): Promise<void> {
  const floors: ChildProcess[] = [];
  try {
    for (const f of NODE_FLOORS) floors.push(await startFloor(f.script, 'node-floor'));
    await idleSideBySide(ctx, targets, registered);
    NODE_FLOORS.forEach((f, i) => {
      const split = rssSplitKb(floors[i]?.pid ?? 0);
      ctx.log(`  ${f.metric}: RSS ${(split.rss / 1024).toFixed(1)} MB (anon ${(split.anon / 1024).toFixed(1)}, file ${(split.file / 1024).toFixed(1)})`);
      ctx.report.add({ scenario: SC, metric: `idle RSS ${f.metric}`, unit: 'MB', gateway: split.rss / 1024 });
    });
  } finally {
    for (const child of floors) await stopChild(child);
  }
}

/** One broker's idle figures: RSS and its anonymous and file-backed parts (kB), CPU (% of a core). */
interface IdleSample { rssKb: number; anonKb: number; fileKb: number; cpuPct: number }

async function idleSideBySide(ctx: Ctx, targets: readonly BrokerTarget[], registered: number): Promise<void> {
  const by = new Map<string, IdleSample>();
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
  const of = (pick: (v: IdleSample) => number): Columns => columns((label) => { const v = by.get(label); return v ? pick(v) : undefined; });
  const g = by.get('ways-edge');
  ctx.log(`  idle: ${[...by.entries()].map(([k, v]) => `${k} RSS ${(v.rssKb / 1024).toFixed(1)} MB (anon ${(v.anonKb / 1024).toFixed(1)}, file ${(v.fileKb / 1024).toFixed(1)}), CPU ${v.cpuPct.toFixed(2)}%`).join('; ')}`);
  ctx.report.add({
    scenario: SC, metric: `idle RSS (${registered.toLocaleString('en-US')} devices registered, ${USAGE_DAYS} days of usage)`, unit: 'MB',
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
    await fillStore(dataDir, s.startupDevices, { usageDays: USAGE_DAYS });
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
    ctx.report.add({ scenario: SC, metric: `start → ready, ${s.startupDevices.toLocaleString('en-US')} devices, ${USAGE_DAYS} days of usage (gateway start())`, unit: 'ms', gateway: gwStart, target: '< 1 s', met: gwStart < 1000 });
    ctx.report.add({ scenario: SC, metric: 'process spawn → ready (incl. Node start, module loading)', unit: 'ms', gateway: median(spawnMs) });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
