import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCa, createServerCert } from '../../src/certs/generate.js';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { removeDir, tempDir } from '../helpers/gateway.js';
import { TestCloud } from './helpers/cloud.js';
import { connectDevice, telemetry } from './helpers/devices.js';
import { outboxEmpty } from './helpers/check.js';

const GW = 'iot_dev_gatewaylink001';
const PASSWORD = 'cloud-password-do-not-log';

t.test('TLS to the cloud with its own CA and the gateway credentials; retained online/offline status', async (t) => {
  const ca = await createCa('test cloud CA');
  const server = await createServerCert(ca, { dns: ['localhost'], ips: ['127.0.0.1'] });
  const dir = tempDir('ways-edge-cloud-');
  t.teardown(() => removeDir(dir));
  const caFile = path.join(dir, 'cloud-ca.pem');
  writeFileSync(caFile, ca.certPem);
  const cloud = new TestCloud({ username: GW, password: PASSWORD, tls: server });
  await cloud.start();
  t.teardown(() => cloud.stop());
  t.match(cloud.url, /^mqtts:/);

  const { gw, api } = await withGateway(t, {
    env: { WAYS_EDGE_CLOUD_URL: cloud.url, WAYS_EDGE_CLOUD_USERNAME: GW, WAYS_EDGE_CLOUD_PASSWORD: PASSWORD, WAYS_EDGE_CLOUD_CA: caFile, WAYS_EDGE_CLOUD_BATCH_MAX_AGE_MS: '20' },
  });
  await cloud.until(() => cloud.statuses.some((s) => s.status === 'online'), 10_000, 'online over TLS');
  const d = await registerDevice(api);
  const c = await connectDevice(gw.gateway.mqttPort, gw.caPem, d);
  await c.publishAsync(`devices/${d.device_id}/events`, Buffer.from('{"door":"open"}'), { qos: 1 });
  await c.endAsync();
  await cloud.until(() => cloud.unique().length === 1, 10_000, 'the event');
  t.match(cloud.unique()[0], { device_id: d.device_id, topic: `devices/${d.device_id}/events`, seq: 1, json: { door: 'open' } });

  await gw.stop();
  const last = cloud.publishes.filter((p) => p.topic === `devices/${GW}/status`).at(-1);
  t.equal(last?.retain, true);
  t.match(JSON.parse(last?.payload.toString() ?? '{}'), { status: 'offline', reason: 'stopped', gateway_id: GW }, 'a clean stop leaves a retained offline status');
});

t.test('refused credentials: the uplink backs off, says why in /stats, and never shows the password', async (t) => {
  const cloud = new TestCloud({ username: GW, password: 'the-right-one' });
  await cloud.start();
  t.teardown(() => cloud.stop());
  const { api } = await withGateway(t, {
    env: { WAYS_EDGE_CLOUD_URL: cloud.url, WAYS_EDGE_CLOUD_USERNAME: GW, WAYS_EDGE_CLOUD_PASSWORD: PASSWORD, WAYS_EDGE_CLOUD_RECONNECT_MIN_MS: '20', WAYS_EDGE_CLOUD_RECONNECT_MAX_MS: '100' },
  });
  await cloud.until(() => cloud.refused >= 3, 10_000, 'three refused attempts');
  const stats = await api.get<{ uplink: { state: string; connected: boolean; last_error: string } }>('/v1/iot/stats');
  t.match(stats.body.uplink, { connected: false, last_error: /Bad username or password|Not authorized/i });
  t.ok(['backoff', 'connecting'].includes(stats.body.uplink.state), `state ${stats.body.uplink.state}`);
  t.notMatch(JSON.stringify(stats.body), PASSWORD);
});

t.test('mirror mode republishes each message on its own topic, acknowledged per message', async (t) => {
  const cloud = new TestCloud({ username: GW });
  await cloud.start();
  t.teardown(() => cloud.stop());
  const { gw, api } = await withGateway(t, {
    env: { WAYS_EDGE_CLOUD_URL: cloud.url, WAYS_EDGE_CLOUD_USERNAME: GW, WAYS_EDGE_CLOUD_MODE: 'mirror', WAYS_EDGE_CLOUD_PUBLISH_RATE_LIMIT: '0' },
  });
  const d = await registerDevice(api);
  const c = await connectDevice(gw.gateway.mqttPort, gw.caPem, d);
  for (let n = 0; n < 30; n++) await c.publishAsync(`devices/${d.device_id}/telemetry`, telemetry(n), { qos: 1 });
  await c.publishAsync(`devices/${d.device_id}/status`, Buffer.from([0xde, 0xad]), { qos: 1 });
  await c.endAsync();
  const mine = (): typeof cloud.publishes => cloud.publishes.filter((p) => p.topic.startsWith(`devices/${d.device_id}/`));
  await cloud.until(() => mine().length >= 31, 10_000, '31 mirrored messages');
  await outboxEmpty(gw.gateway.outbox);
  const got = mine();
  t.same(got.slice(0, 30).map((p) => (JSON.parse(p.payload.toString()) as { n: number }).n), Array.from({ length: 30 }, (_, i) => i), 'in order, payload as sent');
  t.same(got[30]?.payload, Buffer.from([0xde, 0xad]), 'binary payloads as they are');
  t.equal(got[30]?.topic, `devices/${d.device_id}/status`);
  t.ok(got.every((p) => p.clientId === GW), 'published by the gateway');
  t.equal(gw.gateway.uplink?.snapshot().sent_batches, 31, 'one publish per message');
});
