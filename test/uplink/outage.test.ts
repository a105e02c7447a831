import t from 'tap';
import type { MqttClient } from 'mqtt';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice, type RegisteredDevice } from '../helpers/devices.js';
import { cloudEnv, startTestCloud } from './helpers/cloud.js';
import { connectDevice, telemetry } from './helpers/devices.js';
import { checkDelivery, outboxEmpty } from './helpers/check.js';

const GW = 'iot_dev_gatewayoutage1';
const DEVICES = 20;
const PER_DEVICE = 1000;

t.test('a cloud outage in the middle of 20,000 messages from 20 devices loses nothing acknowledged', async (t) => {
  const cloud = await startTestCloud(t, { username: GW });
  const { gw, api } = await withGateway(t, { env: cloudEnv(cloud, GW) });
  const devs: RegisteredDevice[] = [];
  for (let i = 0; i < DEVICES; i++) devs.push(await registerDevice(api));
  const clients: MqttClient[] = await Promise.all(devs.map((d) => connectDevice(gw.gateway.mqttPort, gw.caPem, d)));
  t.teardown(() => Promise.all(clients.map((c) => c.endAsync())));

  const acked = new Map<string, number[]>(devs.map((d) => [d.device_id, []]));
  let ackedTotal = 0;
  let outage: Promise<void> | undefined;
  let back: Promise<void> | undefined;
  const onAck = (): void => {
    ackedTotal += 1;
    // The cloud goes away a quarter into the run and comes back at three quarters.
    if (ackedTotal === (DEVICES * PER_DEVICE) / 4) outage = cloud.stop();
    if (ackedTotal === (DEVICES * PER_DEVICE * 3) / 4) back = outage?.then(() => cloud.start());
  };
  await Promise.all(clients.map(async (c, i) => {
    const d = devs[i] as RegisteredDevice;
    const topic = `devices/${d.device_id}/telemetry`;
    // 50 QoS 1 publishes in flight per device, like a chatty sensor with a send queue.
    for (let n = 0; n < PER_DEVICE; n += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, k) => c.publishAsync(topic, telemetry(n + k), { qos: 1 }).then(() => { acked.get(d.device_id)?.push(n + k); onAck(); })));
    }
  }));
  await back;
  t.equal(ackedTotal, DEVICES * PER_DEVICE, 'every publish was acknowledged by the gateway');
  await cloud.until(() => cloud.unique().length >= DEVICES * PER_DEVICE, 45_000, 'all messages at the cloud');
  checkDelivery(t, cloud, acked);
  await outboxEmpty(gw.gateway.outbox);
  t.equal(gw.gateway.outbox?.count, 0, 'the outbox drained');
  const stats = await api.get<{ uplink: { dropped_total: number; state: string } }>('/v1/iot/stats');
  t.equal(stats.body.uplink.dropped_total, 0);
  t.ok(cloud.connects >= 2, `the gateway reconnected (${cloud.connects} connects)`);
});
