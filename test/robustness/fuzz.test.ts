import t from 'tap';
import mqttPacket from 'mqtt-packet';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice, type RegisteredDevice } from '../helpers/devices.js';
import { fuzzCase, runFuzzCase, type FuzzCase, type FuzzOutcome } from './helpers/fuzz.js';
import { pool, type Target } from './helpers/raw.js';
import { deviceConnect } from './helpers/replay.js';
import { Heartbeat, formatHeartbeat } from './helpers/heartbeat.js';
import { heapAfterGc } from '../helpers/gc.js';
import { MiB, mb } from './helpers/process.js';

/** Cases in CI; FUZZ_CASES=100000 for a long run. FUZZ_SEED replays a run. */
const CASES = Number(process.env.FUZZ_CASES ?? 2_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2025);
const CONCURRENCY = 8;
/** heapUsed after GC may grow by at most this over the run (caches, throttle and rate-limiter maps). */
const HEAP_GROWTH_LIMIT = 24 * MiB;

t.test(`mutational fuzzing, seed ${SEED}, ${CASES} cases: no crash, bounded heap, a legitimate device keeps publishing`, async (t) => {
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_MQTT_RATE_LIMIT: '0' } });
  const target: Target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const fuzzDevices: RegisteredDevice[] = [];
  for (let i = 0; i < CONCURRENCY; i++) fuzzDevices.push(await registerDevice(api, `fuzz-${i}`));
  const appKey = (await api.post<{ key: string }>('/v1/iot/keys', { name: 'fuzz', scopes: ['mqtt'] })).body.key;
  const heartbeat = new Heartbeat(target, await registerDevice(api, 'fuzz-heartbeat'));

  const login = (c: FuzzCase, worker: number): Buffer | undefined => {
    const device = fuzzDevices[worker] as RegisteredDevice;
    if (c.login === 'device') return deviceConnect(device, 4);
    if (c.login === 'app') return mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: `fuzz-app-${worker}`, username: 'app:fuzz', password: Buffer.from(appKey) });
    return undefined;
  };

  const runCase = (c: FuzzCase, worker: number): Promise<FuzzOutcome> => runFuzzCase(c, target, login(c, worker), SEED);

  // Warm up (TLS, aedes, LevelDB caches) before the heap baseline.
  const id = { deviceId: (fuzzDevices[0] as RegisteredDevice).device_id, password: (fuzzDevices[0] as RegisteredDevice).mqtt_credentials.password };
  await pool(Array.from({ length: 40 }, (_, i) => fuzzCase(SEED + 1, i, id)), CONCURRENCY, runCase);
  const heapBefore = await heapAfterGc();
  await heartbeat.start();

  const t0 = performance.now();
  const outcomes = new Map<FuzzOutcome, number>();
  const indexes = Array.from({ length: CASES }, (_, i) => i);
  await pool(indexes, CONCURRENCY, async (index, worker) => {
    const device = fuzzDevices[worker] as RegisteredDevice;
    const outcome = await runCase(fuzzCase(SEED, index, { deviceId: device.device_id, password: device.mqtt_credentials.password }), worker);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  });
  const elapsed = performance.now() - t0;
  const beat = await heartbeat.stop();

  // Every fuzz connection is gone before the heap is measured.
  await until(() => gw.gateway.stats.broker?.().connected_apps === 0 && gw.gateway.stats.broker?.().connected_devices === 0, 10_000);
  const heapAfter = await heapAfterGc();

  t.equal(beat.failed, 0, 'the legitimate device never lost its connection');
  t.ok(beat.acked > 0 && beat.acked === beat.sent, `and every publish was acknowledged: ${formatHeartbeat(beat)}`);
  t.ok(beat.p99 < 1_000, 'p99 publish→PUBACK under 1 s');
  t.ok(heapAfter - heapBefore < HEAP_GROWTH_LIMIT, `heapUsed after GC: ${mb(heapBefore)} before, ${mb(heapAfter)} after (limit +${mb(HEAP_GROWTH_LIMIT)})`);
  t.equal((await api.get('/readyz')).status, 200, 'the gateway is ready');
  const fresh = new Heartbeat(target, await registerDevice(api, 'fuzz-after'), 0);
  await fresh.start();
  const after = await fresh.stop();
  t.ok(after.acked >= 1 && after.failed === 0, 'a device registered afterwards connects and publishes');
  t.comment(`seed ${SEED}: ${CASES} cases in ${(elapsed / 1000).toFixed(1)} s; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
});

/** Polls `check` (no event tells when aedes has released a closed connection) until it holds. */
async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
