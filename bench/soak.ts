/**
 * The long robustness run (`npm run soak -- --minutes N`, default 30): everything the fast suite in
 * test/robustness does once, for minutes, at the same time, against real gateways in child processes.
 *
 *  A. A long-lived gateway (never restarted) with an uplink to a test cloud whose link flaps (down
 *     0.3–2 s every 5–20 s): ten devices publish QoS 1 telemetry throughout, the mosquitto corpus is
 *     replayed over and over (adapted, and before CONNECT), the mutational fuzzer runs without pause,
 *     a heartbeat device measures publish→PUBACK, and the gateway's RSS is sampled.
 *  B. A crash loop: a second gateway is killed with SIGKILL at random points of a QoS 1 load and
 *     started again on the same data directory, every --kill-every seconds (default: 24 kills in the
 *     run, at least one every 75 s, at most every 15 s).
 *
 * At the end the clouds stay up until every acknowledged message has arrived (or a deadline passes),
 * and one summary is printed: messages acknowledged vs delivered to the cloud, crashes survived,
 * sequences replayed, fuzz cases, latency, RSS at start and end. Exit code 0 only if nothing
 * acknowledged is missing and the long-lived gateway never died.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { spawnGateway } from '../test/helpers/spawn.js';
import { removeDir, tempDir } from '../test/helpers/gateway.js';
import { apiClient } from '../test/helpers/http.js';
import { registerDevice, type RegisteredDevice } from '../test/helpers/devices.js';
import { TestCloud } from '../test/uplink/helpers/cloud.js';
import { telemetry } from '../test/uplink/helpers/devices.js';
import { loadCorpus } from '../test/robustness/helpers/corpus.js';
import { replayPreConnect, replaySequence, deviceConnect } from '../test/robustness/helpers/replay.js';
import { pool, type Target } from '../test/robustness/helpers/raw.js';
import { fuzzCase, runFuzzCase, Rng, type FuzzOutcome } from '../test/robustness/helpers/fuzz.js';
import { Heartbeat, deviceClientOptions, formatHeartbeat } from '../test/robustness/helpers/heartbeat.js';
import { CrashLoop } from '../test/robustness/helpers/crash-loop.js';
import { mb, rssOf } from '../test/robustness/helpers/process.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const MINUTES = Number(option('minutes') ?? 30);
const SEED = Number(option('seed') ?? 0x50a4);
const KILL_EVERY_S = Number(option('kill-every') ?? Math.min(75, Math.max(15, (MINUTES * 60) / 24)));
const LOAD_DEVICES = 10;
/** Messages per second per load device on the long-lived gateway. */
const LOAD_RATE = 20;
const GW_A = 'iot_dev_soaklonglived1';
const GW_B = 'iot_dev_soakcrashloop1';
/** The fuzzer connects from its own loopback address, so that its failed logins do not slow the others'. */
const FUZZ_ADDRESS = '127.0.0.3';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string): void => { process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`); };

async function main(): Promise<number> {
  const work = tempDir('ways-edge-soak-');
  const deadline = performance.now() + MINUTES * 60_000;
  const running = (): boolean => performance.now() < deadline;
  log(`soak: ${MINUTES} min, seed ${SEED}, a kill every ${KILL_EVERY_S} s; working in ${work}`);
  try {
    const [a, b] = await Promise.all([longLived(path.join(work, 'a'), running), crashLoop(path.join(work, 'b'), running)]);
    const ok = a.ok && b.ok;
    process.stdout.write(`\n${summary(a, b)}\n${ok ? 'PASS' : 'FAIL'}\n`);
    return ok ? 0 : 1;
  } finally {
    removeDir(work);
  }
}

interface LongLivedReport {
  ok: boolean;
  acked: number; delivered: number; missing: number; duplicates: number;
  outages: number; corpusPasses: number; replayed: number; firstPass: string;
  fuzzCases: number; fuzzOutcomes: Record<string, number>;
  heartbeat: string; rss: { start: number; end: number; max: number }; alive: boolean; exitCode: number | null;
}

/** Part A: one gateway, never restarted, under load, flapping uplink, corpus replays and fuzzing. */
async function longLived(dir: string, running: () => boolean): Promise<LongLivedReport> {
  mkdirSync(dir, { recursive: true });
  const cloud = new TestCloud({ username: GW_A });
  await cloud.start();
  const gw = await spawnGateway(dir, {
    WAYS_EDGE_CLOUD_URL: cloud.url, WAYS_EDGE_CLOUD_USERNAME: GW_A, WAYS_EDGE_CLOUD_BATCH_MAX_AGE_MS: '100',
    WAYS_EDGE_CLOUD_RECONNECT_MIN_MS: '100', WAYS_EDGE_CLOUD_RECONNECT_MAX_MS: '2000', WAYS_EDGE_MQTT_RATE_LIMIT: '0',
    WAYS_EDGE_DISCOVERY_ENABLED: 'false', WAYS_EDGE_LOG_LEVEL: 'info',
  });
  const pid = gw.child.pid;
  const target: Target = { port: gw.mqttPort, caPem: gw.caPem() };
  const api = apiClient(`https://127.0.0.1:${gw.apiPort}`, target.caPem, gw.adminKey());
  const load: RegisteredDevice[] = [];
  for (let i = 0; i < LOAD_DEVICES; i++) load.push(await registerDevice(api, `soak-load-${i}`));
  const corpusDevices: RegisteredDevice[] = [];
  for (let i = 0; i < 4; i++) corpusDevices.push(await registerDevice(api, `soak-corpus-${i}`));
  const fuzzDevices: RegisteredDevice[] = [];
  for (let i = 0; i < 4; i++) fuzzDevices.push(await registerDevice(api, `soak-fuzz-${i}`));
  const appKey = (await api.post<{ key: string }>('/v1/iot/keys', { name: 'soak', scopes: ['mqtt'] })).body.key;
  const heartbeat = new Heartbeat(target, await registerDevice(api, 'soak-heartbeat'), 100);

  // The cloud link flaps.
  const rng = new Rng(SEED);
  let outages = 0;
  const flapping = (async () => {
    while (running()) {
      await sleep(5_000 + rng.int(15_000));
      if (!running()) break;
      await cloud.stop();
      outages += 1;
      await sleep(300 + rng.int(1_700));
      await cloud.start();
    }
  })();

  // Steady QoS 1 load; a device whose connection drops connects again.
  const acked = new Map<string, number[]>(load.map((d) => [d.device_id, []]));
  const loading = Promise.all(load.map(async (d) => {
    let n = 0;
    while (running()) {
      const c = await settledConnect(target, d).catch(() => undefined);
      if (!c) { await sleep(500); continue; }
      const topic = `devices/${d.device_id}/telemetry`;
      try {
        while (running() && c.connected) {
          const t0 = performance.now();
          const batch = Array.from({ length: 5 }, () => n++);
          await Promise.all(batch.map((k) => c.publishAsync(topic, telemetry(k), { qos: 1 }).then(() => { acked.get(d.device_id)?.push(k); })));
          await sleep(Math.max(0, (5 * 1000) / LOAD_RATE - (performance.now() - t0)));
        }
      } catch {
        // The connection dropped: unacknowledged numbers are never re-sent (new numbers follow).
      }
      c.end(true);
    }
  }));

  // The corpus, over and over.
  const corpus = loadCorpus();
  const app = await mqtt.connectAsync({ ...target, host: '127.0.0.1', protocol: 'mqtts', servername: 'localhost', ca: target.caPem, reconnectPeriod: 1000, username: 'app:soak', password: appKey, clientId: 'soak-corpus-helper' });
  app.on('error', () => undefined);
  let corpusPasses = 0;
  let replayed = 0;
  let firstPass = '';
  const replaying = (async () => {
    while (running()) {
      const results = await pool(corpus.sequences, corpusDevices.length, (seq, w) => replaySequence(seq, {
        target, device: corpusDevices[w] as RegisteredDevice, externalPublish: async (topic, payload, qos) => { await app.publishAsync(topic, payload, { qos }); },
      }).catch(() => ({ matched: false })));
      await pool(corpus.sequences.filter((s) => s.msgs.some((m) => m.type === 'send')), corpusDevices.length, (seq) => replayPreConnect(seq, target).catch(() => undefined));
      corpusPasses += 1;
      replayed += results.length + corpus.sequences.length;
      if (corpusPasses === 1) firstPass = `${results.filter((r) => r.matched).length}/${results.length} as the corpus expects`;
    }
  })();

  // The fuzzer, without pause.
  let fuzzCases = 0;
  const fuzzOutcomes: Record<string, number> = {};
  const fuzzing = Promise.all(fuzzDevices.map(async (device, worker) => {
    const id = { deviceId: device.device_id, password: device.mqtt_credentials.password };
    for (let i = worker; running(); i += fuzzDevices.length) {
      const c = fuzzCase(SEED, i, id);
      const login = c.login === 'device' ? deviceConnect(device, 4)
        : c.login === 'app' ? mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: `soak-fuzz-app-${worker}`, username: 'app:soak', password: Buffer.from(appKey) }) : undefined;
      const outcome: FuzzOutcome | 'error' = await runFuzzCase(c, target, login, SEED, FUZZ_ADDRESS).catch(() => 'error' as const);
      fuzzCases += 1;
      fuzzOutcomes[outcome] = (fuzzOutcomes[outcome] ?? 0) + 1;
    }
  }));

  // RSS: after a minute of warm-up (or a tenth of the run), then every 10 s.
  await heartbeat.start();
  const rss = { start: 0, end: 0, max: 0 };
  const sampling = (async () => {
    await sleep(Math.min(60_000, (MINUTES * 60_000) / 10));
    rss.start = rssOf(pid);
    while (running()) {
      const now = rssOf(pid);
      rss.max = Math.max(rss.max, now);
      rss.end = now;
      log(`A: RSS ${mb(now)}, ${[...acked.values()].reduce((s, l) => s + l.length, 0)} acknowledged, ${outages} outages, ${replayed} sequences, ${fuzzCases} fuzz cases`);
      await sleep(10_000);
    }
  })();

  await Promise.all([flapping, loading, replaying, fuzzing, sampling]);
  const beat = await heartbeat.stop();
  app.end(true);
  rss.end = rssOf(pid);
  const alive = gw.child.exitCode === null && gw.child.signalCode === null;
  if (!cloud.running) await cloud.start();

  // Every acknowledged message at the cloud (the outbox drains once the link stays up).
  const expected = new Set([...acked].flatMap(([d, ns]) => ns.map((n) => `${d}|${n}`)));
  const delivered = (): Set<string> => new Set(cloud.unique().filter((m) => m.json !== undefined && typeof (m.json as { n?: unknown }).n === 'number').map((m) => `${m.device_id}|${(m.json as { n: number }).n}`));
  await cloud.until(() => { const have = delivered(); for (const k of expected) if (!have.has(k)) return false; return true; }, 180_000, 'every acknowledged message at the cloud').catch((err: Error) => log(err.message));
  const have = delivered();
  const missing = [...expected].filter((k) => !have.has(k)).length;
  await api.close();
  const exitCode = alive ? await gw.stop() : gw.child.exitCode;
  await cloud.stop();
  return {
    ok: alive && missing === 0 && exitCode === 0 && beat.failed === 0,
    acked: expected.size, delivered: [...expected].filter((k) => have.has(k)).length, missing, duplicates: cloud.messages.length - cloud.unique().length,
    outages, corpusPasses, replayed, firstPass, fuzzCases, fuzzOutcomes, heartbeat: formatHeartbeat(beat), rss, alive, exitCode,
  };
}

interface CrashReport { ok: boolean; kills: number; acked: number; delivered: number; missing: number; countedOk: number; failures: string[] }

/** Part B: SIGKILL at random points of a QoS 1 load, every KILL_EVERY_S seconds, until the end. */
async function crashLoop(dir: string, running: () => boolean): Promise<CrashReport> {
  mkdirSync(dir, { recursive: true });
  const cloud = new TestCloud({ username: GW_B });
  await cloud.start();
  const loop = new CrashLoop({ dataDir: dir, cloud, gatewayId: GW_B, devices: 5, seed: SEED + 1, killAfterAcks: [100, 1_500] });
  await loop.start();
  const failures: string[] = [];
  let countedOk = 0;
  while (running()) {
    const t0 = performance.now();
    try {
      const r = await loop.round();
      if (r.countedOk) countedOk += 1;
      else failures.push(`kill ${r.round}: ${r.detail}`);
      log(`B: kill ${r.round}: ${r.detail}`);
    } catch (err) {
      failures.push(`kill ${loop.kills + 1}: ${(err as Error).message}`);
      log(`B: ${(err as Error).message}`);
      break;
    }
    await sleep(Math.max(0, KILL_EVERY_S * 1000 - (performance.now() - t0)));
  }
  const expected = loop.ackedTotal;
  let missing = 0;
  await loop.allAtCloud(180_000).catch((err: Error) => { missing = -1; failures.push(err.message); });
  if (missing === -1) {
    const have = new Set(cloud.unique().map((m) => `${m.device_id}|${(m.json as { n: number }).n}`));
    missing = [...loop.acked].flatMap(([d, ns]) => ns.map((n) => `${d}|${n}`)).filter((k) => !have.has(k)).length;
  }
  const stopped = await loop.gw?.stop();
  if (stopped !== 0) failures.push(`the last gateway exited with ${stopped} on SIGTERM`);
  await cloud.stop();
  return { ok: failures.length === 0 && missing === 0, kills: loop.kills, acked: expected, delivered: expected - missing, missing, countedOk, failures };
}

/** A device connection that settles either way (mqtt.js' connectAsync does not when closed before CONNACK). */
function settledConnect(target: Target, device: RegisteredDevice): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(deviceClientOptions(target, device));
    c.once('connect', () => resolve(c));
    c.once('close', () => { c.end(true); reject(new Error('closed before CONNACK')); });
    c.on('error', () => undefined);
  });
}

function summary(a: LongLivedReport, b: CrashReport): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  return [
    `## Soak: ${MINUTES} minutes (seed ${SEED})`,
    '',
    'Long-lived gateway (never restarted; uplink flapping, corpus and fuzzer running the whole time):',
    `- QoS 1 messages acknowledged: ${n(a.acked)}; delivered to the cloud: ${n(a.delivered)}; missing: ${n(a.missing)} (${n(a.duplicates)} duplicates dropped by (outbox_id, device_id, seq))`,
    `- cloud link outages: ${a.outages}`,
    `- corpus sequences replayed: ${n(a.replayed)} in ${a.corpusPasses} passes (each pass: every sequence adapted, then before CONNECT); first pass ${a.firstPass}`,
    `- fuzz cases: ${n(a.fuzzCases)} ${JSON.stringify(a.fuzzOutcomes)}`,
    `- heartbeat device: ${a.heartbeat}`,
    `- gateway RSS: ${mb(a.rss.start)} after warm-up, ${mb(a.rss.end)} at the end, ${mb(a.rss.max)} at most; ${a.alive ? 'alive at the end' : 'DIED'}, exit code ${a.exitCode} on SIGTERM`,
    '',
    'Crash loop (kill -9 at random points of a QoS 1 load, restart on the same data):',
    `- kill -9 survived: ${b.kills} (the store opened every time; every acknowledged message counted in /usage after ${b.countedOk} of ${b.kills} restarts)`,
    `- QoS 1 messages acknowledged: ${n(b.acked)}; delivered to the cloud: ${n(b.delivered)}; missing: ${n(b.missing)}`,
    ...(b.failures.length > 0 ? [`- failures: ${b.failures.join('; ')}`] : []),
  ].join('\n');
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => { process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`); process.exitCode = 1; });
