import t from 'tap';
import { execFileSync } from 'node:child_process';
import { rmSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { spawnGateway, type SpawnedGateway } from '../helpers/spawn.js';
import { removeDir, tempDir } from '../helpers/gateway.js';
import { apiClient, type ApiClient, type HttpResponse } from '../helpers/http.js';
import { registerDevice, type RegisteredDevice } from '../helpers/devices.js';
import { cloudEnv, startTestCloud } from '../uplink/helpers/cloud.js';
import { deviceClientOptions } from './helpers/heartbeat.js';
import { usageOf } from './helpers/gateway-under-test.js';

const GW = 'iot_dev_gwrobustdisk01';
const MiB = 1024 * 1024;
/** A small filesystem for the data directory; all but SPARE of it filled before the devices start. */
const FS_SIZE = '24m';
const SPARE = 2 * MiB;
/** Telemetry of ~4 KB, numbered, so that the cloud side can tell which ones arrived. */
const message = (n: number): Buffer => Buffer.from(JSON.stringify({ n, pad: 'x'.repeat(4_000) }));

/**
 * A device connection that settles either way: mqtt.js' connectAsync does not settle when the broker
 * closes the connection before its CONNACK (which the gateway does while its store is reopening).
 */
function connect(gw: SpawnedGateway, device: RegisteredDevice): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(deviceClientOptions({ port: gw.mqttPort, caPem: gw.caPem() }, device));
    c.once('connect', () => resolve(c));
    c.once('close', () => { c.end(true); reject(new Error('closed before CONNACK')); });
    c.on('error', () => undefined);
  });
}

/** Publishes numbered messages, 10 in flight, until `stop()` holds or the connection closes; records what was acknowledged. */
async function publishUntil(c: MqttClient, topic: string, next: { n: number }, acked: number[], stop: () => boolean): Promise<'closed' | 'stopped'> {
  return new Promise((resolve) => {
    let inflight = 0;
    let closed = false;
    c.once('close', () => { closed = true; c.end(true); });
    const pump = (): void => {
      while (!closed && !stop() && inflight < 10) {
        const n = next.n++;
        inflight += 1;
        c.publish(topic, message(n), { qos: 1 }, (err) => {
          inflight -= 1;
          if (err) closed = true;
          else acked.push(n);
          // Not in this call stack: mqtt.js may call back synchronously.
          setImmediate(pump);
        });
      }
      if (inflight === 0) resolve(closed ? 'closed' : 'stopped');
    };
    pump();
  });
}

/** Polls GET /readyz until it answers `status`; fails with the last answer after `timeoutMs`. */
async function readyzUntil(api: ApiClient, status: number, timeoutMs = 10_000): Promise<HttpResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.get('/readyz');
    if (res.status === status) return res;
    if (Date.now() > deadline) throw new Error(`/readyz did not answer ${status} within ${timeoutMs} ms; last: ${res.status} ${res.text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

t.test('the disk fills up (no free-space floor): no PUBACK for an unwritten message, no crash, recovery without a restart', async (t) => {
  const dir = tempDir('ways-edge-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FS_SIZE},mode=0700`, 'tmpfs', dir]);
  t.teardown(() => { execFileSync('umount', [dir]); removeDir(dir); });
  const cloud = await startTestCloud(t, { username: GW });
  const env = cloudEnv(cloud, GW, { WAYS_EDGE_HEALTH_DISK_MIN_FREE_BYTES: '0', WAYS_EDGE_DISCOVERY_ENABLED: 'false' });
  let gw = await spawnGateway(dir, env);
  // Registered after the unmount, so it runs first: the gateway's working directory is on the tmpfs.
  t.teardown(() => gw.kill9());
  const api = apiClient(`https://127.0.0.1:${gw.apiPort}`, gw.caPem(), gw.adminKey());
  t.teardown(() => api.close());
  const device = await registerDevice(api, 'disk-full');
  const topic = `devices/${device.device_id}/telemetry`;

  const free = (): number => { const s = statfsSync(dir); return s.bavail * s.bsize; };
  const filler = path.join(dir, 'filler.bin');
  writeFileSync(filler, Buffer.alloc(Math.max(0, free() - SPARE)));
  t.ok(free() <= SPARE, `${(free() / MiB).toFixed(1)} MiB left on the data filesystem`);

  const acked: number[] = [];
  const next = { n: 0 };
  const refusedBefore = gw.logs.length;
  const failed = gw.waitForLog('store_write_failed', 60_000);
  const first = await connect(gw, device);
  t.equal(await publishUntil(first, topic, next, acked, () => false), 'closed', `${acked.length} acknowledged, then the disk was full and the gateway closed the connection`);
  const failure = await failed;
  t.match(failure.err, /No space left on device/, 'the store reported the full disk');
  const notReady = await readyzUntil(api, 503);
  t.match(notReady.body, { status: 'unavailable', parts: { store: false }, error: { code: 'not_ready', message: /store refuses writes .*No space left on device/ } },
    '/readyz: 503 with the reason while the store refuses writes');
  const sentBeforeFull = next.n;

  // While the disk stays full: nothing more is acknowledged, and nothing crashes.
  let attempts = 0;
  for (let i = 0; i < 5; i++) {
    attempts += 1;
    const c = await connect(gw, device).catch(() => undefined);
    if (c) await publishUntil(c, topic, next, acked, () => next.n >= sentBeforeFull + 50 * (i + 1));
  }
  t.equal(acked.filter((n) => n >= sentBeforeFull).length, 0, `no PUBACK while the disk is full (${attempts} more attempts, ${next.n - sentBeforeFull} messages)`);
  t.equal(gw.child.exitCode, null, 'the gateway is still running');
  t.equal((await api.get('/healthz')).status, 200, 'and answers');
  t.equal((await api.get('/readyz')).status, 503, 'and is still not ready while the disk stays full');
  t.ok(gw.logs.slice(refusedBefore).some((l) => l.event === 'ingest_commit_failed' && l.qos === 1 && typeof l.messages === 'number' && l.messages >= 1),
    'the failed writes were logged, once per batch with the number of QoS 1 messages in it');

  // Space comes back: the store reopens by itself and messages are acknowledged again, no restart.
  const reopened = gw.waitForLog('store_reopened', 30_000);
  rmSync(filler);
  await reopened;
  t.match((await readyzUntil(api, 200)).body, { status: 'ready', parts: { store: true } }, '/readyz: 200 again once the store has reopened');
  const resumedFrom = next.n;
  const after = await connect(gw, device);
  await publishUntil(after, topic, next, acked, () => next.n >= resumedFrom + 50);
  await after.endAsync();
  t.equal(acked.filter((n) => n >= resumedFrom).length, 50, 'after the space came back: 50 of 50 acknowledged, without a restart');

  const counted = (await usageOf(api, device.device_id)).messages_in;
  t.ok(counted >= acked.length, `every acknowledged message is counted (${counted} ≥ ${acked.length})`);
  const expected = new Set(acked);
  await cloud.until(() => { const have = new Set(cloud.unique().map((m) => (m.json as { n: number }).n)); return [...expected].every((n) => have.has(n)); }, 60_000, 'every acknowledged message at the cloud');
  t.pass(`every one of the ${acked.length} acknowledged messages reached the cloud`);

  // And the store the episode left behind opens cleanly (LevelDB alone would have dropped a block of it).
  t.equal(await gw.stop(), 0, 'a clean stop');
  gw = await spawnGateway(dir, env);
  const api2 = apiClient(`https://127.0.0.1:${gw.apiPort}`, gw.caPem(), gw.adminKey());
  t.teardown(() => api2.close());
  t.ok((await usageOf(api2, device.device_id)).messages_in >= acked.length, 'after a restart the store opens and still counts every acknowledged message');
});
