/**
 * `npm run bench`: ways-edge against mosquitto 2.0 on the same machine, same certificates, same
 * device credentials and equivalent ACL, driven by the same load generator in one run, alternating
 * the brokers; prints a table of medians with the ratio gateway/mosquitto and, after a full run,
 * writes it to docs/BENCHMARKS.md. `npm run bench -- --quick` is the short development run;
 * `--help` lists the options. Every process it starts is stopped by PID at the end, also on error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { running, stopAll } from './lib/children.js';
import type { Ctx } from './lib/context.js';
import { bareAedesTarget, devices, gatewayEnv, gatewayTarget, GATEWAY_CLOUD_ID, mosquittoTarget, newBareAedes, newCloud, newGateway, newMosquitto, prepareEnv, type BenchEnv } from './lib/env.js';
import type { BareAedes } from './lib/bare-aedes.js';
import type { GatewayProcess } from './lib/gateway.js';
import { ensureMosquitto, mosquittoVersion, type Mosquitto } from './lib/mosquitto.js';
import { machine } from './lib/proc.js';
import { Report } from './lib/report.js';
import { Rig, type BrokerTarget } from './lib/rig.js';
import { parseSettings, USAGE, type Settings } from './lib/settings.js';
import { Worker } from './lib/workers.js';
import { writeBenchmarksDoc, versions } from './lib/doc.js';
import { diskFloor, mqttLoad, type CloudProbe } from './scenarios/mqtt-load.js';
import { idleFootprint, startupTime } from './scenarios/footprint.js';
import { drain } from './scenarios/ingest.js';
import { restLoad } from './scenarios/rest.js';
import { flood } from './scenarios/flood.js';
import { connections } from './scenarios/connections.js';
import { profileGateway } from './scenarios/profile.js';

const T0 = performance.now();

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A phase header, with the time since the bench started. */
function phase(title: string): void {
  log(`${title}  [+${((performance.now() - T0) / 1000).toFixed(0)} s]`);
}

/** Phase 1: both brokers side by side under the same load (scenarios 1, 2, 4, 5 and idle footprint). */
async function sideBySide(ctx: Ctx, env: BenchEnv, state: { gatewayHasBroker: boolean }): Promise<void> {
  const s = ctx.settings;
  const want = (...names: Array<Settings['only'] extends ReadonlySet<infer T> ? T : never>): boolean => names.some((n) => s.only.has(n));
  if (!want('footprint', 'throughput', 'latency', 'ingest', 'rest')) return;
  let cloud: Mosquitto | undefined;
  let mosq: Mosquitto | undefined;
  let gw: GatewayProcess | undefined;
  let bare: BareAedes | undefined;
  let cloudWorker: Worker | undefined;
  const rigs: Rig[] = [];
  try {
    cloud = newCloud(env);
    await cloud.start();
    mosq = await newMosquitto(env);
    await mosq.start();
    gw = newGateway(env);
    await gw.start();
    state.gatewayHasBroker = gw.mqttPort > 0;
    if (s.bareAedes) {
      bare = await newBareAedes(env);
      await bare.start();
    }
    ctx.log(`brokers: mosquitto pid ${mosq.pid} port ${mosq.port}; ways-edge pid ${gw.pid} mqtt ${gw.mqttPort || 'none'} api ${gw.apiPort}; ${bare ? `bare aedes pid ${bare.pid} port ${bare.port}; ` : ''}cloud mosquitto pid ${cloud.pid} port ${cloud.port}`);
    if (!state.gatewayHasBroker) ctx.report.note('The gateway under test had no MQTT listener (no "mqtt_listening" log): its MQTT figures are missing from this run.');
    const reference: BrokerTarget[] = bare ? [bareAedesTarget(env, bare)] : [];
    const targets: BrokerTarget[] = [mosquittoTarget(env, mosq), ...(state.gatewayHasBroker ? [gatewayTarget(env, gw)] : []), ...reference];
    if (want('footprint')) {
      phase('6. footprint: idle');
      // All measured, broker or not: the footprint is the whole gateway process.
      await idleFootprint(ctx, [mosquittoTarget(env, mosq), gatewayTarget(env, gw), ...reference], env.fill.ids.length);
    }
    if (want('throughput', 'latency', 'ingest')) {
      let probe: CloudProbe | undefined;
      if (state.gatewayHasBroker) {
        cloudWorker = new Worker('cloud-sub');
        await cloudWorker.call({ op: 'connect-cloud', broker: { port: env.cloudPort }, clientId: 'bench-cloud-consumer', filter: `devices/${GATEWAY_CLOUD_ID}/telemetry` });
        const cloudPid = (): number => (cloud as Mosquitto).pid;
        probe = { worker: cloudWorker, pid: cloudPid };
      }
      for (const t of targets) {
        const rig = new Rig(t, s.pubProcs);
        rigs.push(rig);
        const { ms } = await rig.connect(devices(env, 0, s.devices));
        ctx.log(`${t.label}: ${s.devices} devices and 1 subscriber connected in ${ms.toFixed(0)} ms`);
      }
      phase('1./2. throughput and latency (alternating brokers)');
      await mqttLoad(ctx, rigs, probe);
      if (want('latency')) await diskFloor(ctx, env.root);
      const gwRig = rigs.find((r) => r.target.label === 'ways-edge');
      if (want('ingest') && gwRig && probe && cloud) {
        phase('4. ingest to cloud: backlog drain after an outage');
        await drain(ctx, { rig: gwRig, cloud, probe: probe.worker, gw });
      }
      for (const rig of rigs) await rig.disconnect();
    }
    if (want('rest')) {
      phase('5. REST');
      await restLoad(ctx, { gw, ids: env.fill.ids.slice(0, s.devices), registered: env.fill.ids.length, caPem: env.certs.caPem });
    }
  } finally {
    for (const rig of rigs) await rig.stop();
    if (cloudWorker) { await cloudWorker.call({ op: 'disconnect-cloud' }).catch(() => undefined); await cloudWorker.stop(); }
    await bare?.stop();
    await gw?.stop();
    await mosq?.stop();
    await cloud?.stop();
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) { process.stdout.write(USAGE); return; }
  const settings = parseSettings(argv);
  if (!ensureMosquitto(log)) { process.exitCode = 1; return; }
  const report = new Report();
  const ctx: Ctx = { settings, report, log };
  const started = new Date();
  const root = mkdtempSync(path.join(os.tmpdir(), 'ways-edge-bench-'));
  const m = machine();
  const vers = versions(mosquittoVersion());
  log(`ways-edge bench (${settings.quick ? 'quick' : 'full'}, ${settings.reps} rep${settings.reps > 1 ? 's' : ''}) on ${m.nproc} × ${m.cpuModel}, ${m.memTotalMb} MB, ${m.kernel}; ${vers.line}`);
  const onSignal = (): void => { void stopAll().finally(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let failure: unknown;
  try {
    const deviceCount = Math.max(settings.devices, ...(settings.only.has('connections') ? settings.connectionSteps : [0]));
    const env = await prepareEnv(root, deviceCount, { env: settings.gatewayEnv, nodeArgs: settings.gatewayNodeArgs, stdoutFile: settings.gatewayStdoutFile });
    const extra = Object.entries(settings.gatewayEnv).map(([k, v]) => `${k}=${v}`);
    if (settings.gatewayNodeArgs.length > 0) report.note(`Experiment: every gateway of this run ran with node ${settings.gatewayNodeArgs.join(' ')} (BENCH_GATEWAY_NODE_ARGS).`);
    if (extra.length > 0) report.note(`Experiment: every gateway of this run had ${extra.join(', ')} in its environment (--gateway-env).`);
    log(`prepared: ${deviceCount} devices (store pre-filled, one reused password hash), mosquitto password file and ACL, one ECDSA P-256 certificate for both brokers`);
    const state = { gatewayHasBroker: true };
    await sideBySide(ctx, env, state);
    if (settings.only.has('flood') && state.gatewayHasBroker) {
      phase('1b. flood with the default per-device rate limit');
      await flood(ctx, env);
    }
    if (settings.only.has('connections')) {
      phase('3. idle TLS connections');
      await connections(ctx, env);
    }
    if (settings.only.has('startup')) {
      phase('6. footprint: start to ready');
      await startupTime(ctx, root, gatewayEnv(env, { uplink: false }));
    }
    if (settings.only.has('profile') && state.gatewayHasBroker) {
      phase('profile: the gateway under the QoS 1 load with --cpu-prof');
      await profileGateway(ctx, env);
    }
  } catch (err) {
    failure = err;
  } finally {
    await stopAll();
    const left = running();
    if (left.length > 0) log(`still running after stop: ${left.join(', ')}`);
    rmSync(root, { recursive: true, force: true });
  }
  const minutes = (performance.now() - T0) / 60_000;
  const table = report.markdown();
  log('');
  log(table);
  if (report.notes.length > 0) { log(''); for (const n of report.notes) log(`- ${n}`); }
  for (const section of report.sections) { log(''); log(section); }
  log('');
  log(`took ${minutes.toFixed(1)} min`);
  if (failure) {
    log(`bench failed: ${(failure as Error).stack ?? String(failure)}`);
    process.exitCode = 1;
    return;
  }
  if (settings.writeDocs) {
    const file = writeBenchmarksDoc({ report, machine: m, versions: vers, started, minutes, settings });
    log(`wrote ${file}`);
  }
}

void main();
