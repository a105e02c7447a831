/**
 * The gateway under the QoS 1 load once more, started with `node --cpu-prof`; on its clean stop
 * (SIGTERM) V8 writes the profile, and the top self-time functions are printed and kept in the report.
 * Pass `--keep-profile DIR` to keep the .cpuprofile (open it in Chrome DevTools → Performance).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Ctx } from '../lib/context.js';
import { devices, gatewayTarget, newCloud, newGateway, type BenchEnv } from '../lib/env.js';
import { sliceProfile, topTable, type CpuProfile } from '../lib/cpuprofile.js';
import { Rig } from '../lib/rig.js';
import { fmtNumber } from '../lib/report.js';

export async function profileGateway(ctx: Ctx, env: BenchEnv): Promise<void> {
  const s = ctx.settings;
  const dir = path.join(env.root, 'profile');
  mkdirSync(dir, { recursive: true });
  // The uplink is on and its cloud broker up: batching and sending are part of the QoS 1 path.
  const cloud = newCloud(env);
  const gw = newGateway(env, { name: 'ways-edge-profiled', nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
  let rig: Rig | undefined;
  let window = { fromUs: 0, toUs: 0 };
  try {
    await cloud.start();
    await gw.start();
    rig = new Rig(gatewayTarget(env, gw), s.pubProcs);
    await rig.connect(devices(env, 0, s.devices));
    const r = await rig.measure({ qos: 1, rate: 0, warmupMs: s.warmupMs, durationMs: s.profileMs, window: s.qos1Window, payloadBytes: s.payloadBytes, credit: s.credit });
    window = { fromUs: r.windowStartUs, toUs: r.windowEndUs };
    ctx.log(`  profiled run: ${fmtNumber(r.rate)} msg/s, ${r.cpuUsPerMsg.toFixed(2)} µs/msg (profiling adds overhead)`);
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
    ctx.log(`  kept ${path.join(dest, file)}`);
  }
  const whole = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
  // Only the measured window: not start-up, module loading, logins or shutdown.
  const sliced = sliceProfile(whole, window.fromUs, window.toUs);
  if (!sliced) ctx.report.note('The CPU profile could not be cut to the measured window (clock mismatch); the summary covers the whole process life.');
  const profile = sliced ?? whole;
  const table = topTable(profile, 10);
  ctx.log(table);
  ctx.report.section(`## Profile of the gateway under the QoS 1 load\n\n\`node --cpu-prof\`, ${s.devices} devices publishing QoS 1 at full speed for ${s.profileMs / 1000} s (the summary covers that window only), uplink on to the local cloud broker.\n\n${table}`);
}
