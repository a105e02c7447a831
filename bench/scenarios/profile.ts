/**
 * The gateway under the scenario 1 loads once more, started with `node --cpu-prof`: QoS 0 and QoS 1 at
 * full speed (scenario 1), then QoS 1 paced at 5,000 msg/s (scenario 2). On its clean stop (SIGTERM) V8 writes the
 * profile; it is cut to each measured window and the top self-time functions and modules of each
 * are printed and kept in the report. `--keep-profile DIR` keeps the .cpuprofile (open it in Chrome
 * DevTools → Performance, or speedscope).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Ctx } from '../lib/context.js';
import { devices, gatewayTarget, newCloud, newGateway, type BenchEnv } from '../lib/env.js';
import { sliceProfile, topTable, type CpuProfile } from '../lib/cpuprofile.js';
import { Rig, type WindowResult } from '../lib/rig.js';
import { fmtNumber } from '../lib/report.js';

interface Profiled { title: string; result: WindowResult }

export async function profileGateway(ctx: Ctx, env: BenchEnv): Promise<void> {
  const s = ctx.settings;
  const dir = path.join(env.root, 'profile');
  mkdirSync(dir, { recursive: true });
  // The uplink is on and its cloud broker up: batching and sending are part of the QoS 1 path.
  const cloud = newCloud(env);
  const gw = newGateway(env, { name: 'ways-edge-profiled', nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
  let rig: Rig | undefined;
  const runs: Profiled[] = [];
  try {
    await cloud.start();
    await gw.start();
    rig = new Rig(gatewayTarget(env, gw), s.pubProcs);
    await rig.connect(devices(env, 0, s.devices));
    const base = { qos: 1 as 0 | 1, warmupMs: s.warmupMs, durationMs: s.profileMs, window: s.qos1Window, payloadBytes: s.payloadBytes, credit: s.credit };
    runs.push({ title: `QoS 0 at full speed (scenario 1), ${s.profileMs / 1000} s`, result: await rig.measure({ ...base, qos: 0, rate: 0 }) });
    runs.push({ title: `QoS 1 at full speed (scenario 1), ${s.profileMs / 1000} s`, result: await rig.measure({ ...base, rate: 0 }) });
    runs.push({ title: `QoS 1 paced at ${fmtNumber(s.latencyRate)} msg/s (scenario 2), ${s.profileMs / 1000} s`, result: await rig.measure({ ...base, rate: s.latencyRate }) });
    for (const r of runs) ctx.log(`  profiled ${r.title}: ${fmtNumber(r.result.rate)} msg/s, ${r.result.cpuUsPerMsg.toFixed(2)} µs/msg (profiling adds overhead)`);
    await rig.disconnect();
  } finally {
    if (rig) await rig.stop();
    await gw.stop();
    await cloud.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) { ctx.report.note('The profiled gateway wrote no .cpuprofile.'); return; }
  const keep = process.argv.indexOf('--keep-profile');
  if (keep >= 0 && process.argv[keep + 1]) {
    const dest = path.resolve(process.argv[keep + 1] as string);
    mkdirSync(dest, { recursive: true });
    copyFileSync(path.join(dir, file), path.join(dest, file));
    // The measured windows, to cut the kept profile the same way (bench/lib/cpuprofile.ts sliceProfile).
    const windows = runs.map(({ title, result }) => ({ title, fromUs: result.windowStartUs, toUs: result.windowEndUs, msgPerS: result.rate }));
    writeFileSync(path.join(dest, `${file}.windows.json`), JSON.stringify(windows, null, 2));
    ctx.log(`  kept ${path.join(dest, file)} (measured windows in ${file}.windows.json)`);
  }
  const whole = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
  const parts: string[] = [];
  for (const { title, result } of runs) {
    // Only the measured window: not start-up, module loading, logins, the other window or shutdown.
    const sliced = sliceProfile(whole, result.windowStartUs, result.windowEndUs);
    if (!sliced) ctx.report.note('A CPU profile could not be cut to its measured window (clock mismatch); its summary covers the whole process life.');
    const table = topTable(sliced ?? whole, 10);
    ctx.log(`\n${title}:\n${table}`);
    parts.push(`### ${title}\n\n${fmtNumber(result.rate)} msg/s delivered, ${result.cpuUsPerMsg.toFixed(1)} µs of gateway CPU per message (all threads; profiling adds overhead).\n\n${table}`);
  }
  ctx.report.section(`## Profile of the gateway under the QoS 0 and QoS 1 loads\n\n\`node --cpu-prof\` (main thread only), ${s.devices} devices → 1 subscriber, uplink on to the local cloud broker; each summary covers its measured window only.\n\n${parts.join('\n\n')}`);
}
