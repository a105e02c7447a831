import t from 'tap';
import type { MqttClient } from 'mqtt';
import { spawnGateway, type SpawnedGateway } from '../helpers/spawn.js';
import { apiClient } from '../helpers/http.js';
import { registerDevice, type RegisteredDevice } from '../helpers/devices.js';
import { removeDir, tempDir } from '../helpers/gateway.js';
import { cloudEnv, startTestCloud } from './helpers/cloud.js';
import { connectDevice, telemetry } from './helpers/devices.js';
import { checkDelivery } from './helpers/check.js';

const GW = 'iot_dev_gatewaycrash01';
const DEVICES = 20;
const PER_DEVICE = 1000;
/** Publishes in flight per device. */
const WINDOW = 50;

/** Publishes n in [from, to) from every device, `WINDOW` at a time; records what the gateway acknowledged. */
async function publishRange(clients: MqttClient[], devs: RegisteredDevice[], from: number, to: number, acked: Map<string, number[]>, onAck: () => void): Promise<void> {
  await Promise.all(clients.map(async (c, i) => {
    const d = devs[i] as RegisteredDevice;
    const topic = `devices/${d.device_id}/telemetry`;
    try {
      for (let n = from; n < to; n += WINDOW) {
        await Promise.all(Array.from({ length: Math.min(WINDOW, to - n) }, (_, k) => c.publishAsync(topic, telemetry(n + k), { qos: 1 }).then(() => { acked.get(d.device_id)?.push(n + k); onAck(); })));
      }
    } catch {
      // The gateway was killed: what was not acknowledged was never promised.
    }
  }));
}

t.test('kill -9 in the middle of the load: no acknowledged message is missing at the cloud', async (t) => {
  const cloud = await startTestCloud(t, { username: GW });
  const dataDir = tempDir();
  t.teardown(() => removeDir(dataDir));
  const env = cloudEnv(cloud, GW);
  // Before the crash the uplink is held to 200 msg/s (2 publishes/s of 100) so that, however fast this
  // machine, the outbox holds unsent entries when the gateway dies; after the restart it drains at full speed.
  let gw: SpawnedGateway = await spawnGateway(dataDir, { ...env, WAYS_EDGE_CLOUD_PUBLISH_RATE_LIMIT: '2', WAYS_EDGE_CLOUD_BATCH_MAX_MESSAGES: '100' });
  t.teardown(() => gw.kill9());
  const api = apiClient(`https://127.0.0.1:${gw.apiPort}`, gw.caPem(), gw.adminKey());
  const devs: RegisteredDevice[] = [];
  for (let i = 0; i < DEVICES; i++) devs.push(await registerDevice(api));
  await api.close();

  const acked = new Map<string, number[]>(devs.map((d) => [d.device_id, []]));
  let ackedTotal = 0;
  let clients = await Promise.all(devs.map((d) => connectDevice(gw.mqttPort, gw.caPem(), d)));
  let killed: Promise<void> | undefined;
  // First half of the load; the gateway dies once 60% of it has been acknowledged.
  await publishRange(clients, devs, 0, PER_DEVICE / 2, acked, () => {
    ackedTotal += 1;
    if (ackedTotal === (DEVICES * PER_DEVICE * 0.6) / 2) {
      killed = gw.kill9().then(() => { for (const c of clients) c.end(true); });
    }
  });
  await killed;
  await cloud.until(() => cloud.statuses.some((s) => s.status === 'offline' && s.reason === 'connection lost'), 10_000, 'the will');
  t.pass('the crash left the retained will: offline, connection lost');
  const ackedBeforeCrash = ackedTotal;
  t.ok(ackedBeforeCrash >= (DEVICES * PER_DEVICE * 0.6) / 2 && ackedBeforeCrash < DEVICES * PER_DEVICE / 2, `killed mid-load after ${ackedBeforeCrash} acknowledged messages`);
  t.ok(cloud.unique().length < ackedBeforeCrash / 2, `the outbox held most of it: the cloud had ${cloud.unique().length} messages`);

  gw = await spawnGateway(dataDir, env);
  clients = await Promise.all(devs.map((d) => connectDevice(gw.mqttPort, gw.caPem(), d)));
  await publishRange(clients, devs, PER_DEVICE / 2, PER_DEVICE, acked, () => { ackedTotal += 1; });
  await Promise.all(clients.map((c) => c.endAsync()));

  const expected = new Set([...acked].flatMap(([d, ns]) => ns.map((n) => `${d}|${n}`)));
  await cloud.until(() => {
    const have = new Set(cloud.unique().map((m) => `${m.device_id}|${(m.json as { n: number }).n}`));
    for (const k of expected) if (!have.has(k)) return false;
    return true;
  }, 45_000, 'every acknowledged message at the cloud');
  checkDelivery(t, cloud, acked);
  t.equal(await gw.stop(), 0, 'SIGTERM: clean stop');
});
