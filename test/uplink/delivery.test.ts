import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { cloudEnv as uplinkEnv, TestCloud } from './helpers/cloud.js';
import { connectDevice, telemetry } from './helpers/devices.js';
import { outboxEmpty } from './helpers/check.js';

const GW = 'iot_dev_gatewaygw0001';

function cloudEnv(cloud: TestCloud, extra: Record<string, string> = {}): Record<string, string> {
  return uplinkEnv(cloud, GW, { WAYS_EDGE_CLOUD_PASSWORD: 'cloud-secret', WAYS_EDGE_CLOUD_RECONNECT_MAX_MS: '200', ...extra });
}

t.test('acknowledged device messages reach the cloud in batches, in order, with their ids', async (t) => {
  const cloud = new TestCloud({ username: GW, password: 'cloud-secret' });
  await cloud.start();
  t.teardown(() => cloud.stop());
  const { gw, api } = await withGateway(t, { env: cloudEnv(cloud) });
  await cloud.until(() => cloud.statuses.some((s) => s.status === 'online'), 10_000, 'online status');

  const devs = [await registerDevice(api), await registerDevice(api)];
  const clients = await Promise.all(devs.map((d) => connectDevice(gw.gateway.mqttPort, gw.caPem, d)));
  t.teardown(() => Promise.all(clients.map((c) => c.endAsync())));
  for (let n = 0; n < 50; n++) {
    await Promise.all(clients.map((c, i) => c.publishAsync(`devices/${devs[i]?.device_id}/telemetry`, telemetry(n), { qos: 1 })));
  }
  await cloud.until(() => cloud.unique().length >= 100, 20_000, '100 messages');

  const got = cloud.unique();
  t.equal(got.length, 100);
  for (const d of devs) {
    const mine = got.filter((m) => m.device_id === d.device_id);
    t.same(mine.map((m) => m.seq), Array.from({ length: 50 }, (_, i) => i + 1), `${d.device_id}: per-device seq 1..50, in order`);
    t.same(mine.map((m) => (m.json as { n: number }).n), Array.from({ length: 50 }, (_, i) => i), 'payloads in publish order');
    t.ok(mine.every((m) => m.topic === `devices/${d.device_id}/telemetry`));
  }
  t.ok(cloud.batches.length < 100, `batched: ${cloud.batches.length} publishes for 100 messages`);
  t.ok(cloud.batches.every((b) => b.batch_id.startsWith(`${GW}:`) && b.gateway_id === GW));
  t.ok(cloud.publishes.filter((p) => p.topic.endsWith('/telemetry')).every((p) => p.topic === `devices/${GW}/telemetry` && p.clientId === GW), 'on the gateway telemetry topic, as the gateway');

  const online = cloud.publishes.find((p) => p.topic === `devices/${GW}/status`);
  t.equal(online?.retain, true, 'status is retained');
  t.match(cloud.statuses[0], { status: 'online', gateway_id: GW, health: Object });

  const stats = await api.get<{ uplink: Record<string, unknown> }>('/v1/iot/stats');
  t.match(stats.body.uplink, { state: 'connected', connected: true, sent_messages: 100, dropped_total: 0, dropped_by_device: {}, last_error: null });
  await outboxEmpty(gw.gateway.outbox);
  t.equal(gw.gateway.outbox?.count, 0, 'entries leave the outbox once acknowledged');
});

t.test('with cloud.url empty nothing is written for the cloud and /stats says disabled', async (t) => {
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_CLOUD_URL: '' } });
  t.equal(gw.gateway.outbox, undefined);
  t.equal(gw.gateway.ingestSinks.length, 0, 'no sink registered');
  const d = await registerDevice(api);
  const c = await connectDevice(gw.gateway.mqttPort, gw.caPem, d);
  await c.publishAsync(`devices/${d.device_id}/telemetry`, telemetry(1), { qos: 1 });
  await c.endAsync();
  let outboxKeys = 0;
  for await (const _ of gw.gateway.store.binary('outbox').keys()) outboxKeys += 1;
  t.equal(outboxKeys, 0, 'no outbox writes');
  const stats = await api.get<{ uplink: Record<string, unknown> }>('/v1/iot/stats');
  t.equal(stats.body.uplink.state, 'disabled');
});
