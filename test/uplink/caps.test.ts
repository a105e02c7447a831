import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { TestCloud } from './helpers/cloud.js';
import { connectDevice, telemetry } from './helpers/devices.js';
import { outboxEmpty } from './helpers/check.js';

const GW = 'iot_dev_gatewaycaps001';
const CAP = 100_000;
const PER_DEVICE = 2000;

t.test('with the cloud down and a small byte cap: bounded outbox, exact drop counters, newest data delivered', async (t) => {
  const cloud = new TestCloud({ username: GW });
  await cloud.start();
  await cloud.stop(); // the cloud is down from the start; its port is known
  t.teardown(() => cloud.stop());
  const { gw, api } = await withGateway(t, {
    env: {
      WAYS_EDGE_CLOUD_URL: cloud.url, WAYS_EDGE_CLOUD_USERNAME: GW, WAYS_EDGE_CLOUD_OUTBOX_MAX_BYTES: String(CAP),
      WAYS_EDGE_CLOUD_BATCH_MAX_AGE_MS: '50', WAYS_EDGE_CLOUD_RECONNECT_MIN_MS: '50', WAYS_EDGE_CLOUD_RECONNECT_MAX_MS: '200',
      WAYS_EDGE_MQTT_RATE_LIMIT: '0',
    },
  });
  const outbox = gw.gateway.outbox;
  if (!outbox) throw new Error('no outbox');
  let largest = 0;
  const off = outbox.events.on('removed', () => { largest = Math.max(largest, outbox.bytes); });
  t.teardown(off);

  const devs = [await registerDevice(api), await registerDevice(api)];
  const clients = await Promise.all(devs.map((d) => connectDevice(gw.gateway.mqttPort, gw.caPem, d)));
  for (let n = 0; n < PER_DEVICE; n += 100) {
    await Promise.all(clients.flatMap((c, i) => Array.from({ length: 100 }, (_, k) => c.publishAsync(`devices/${devs[i]?.device_id}/telemetry`, telemetry(n + k), { qos: 1 }))));
  }
  await Promise.all(clients.map((c) => c.endAsync()));
  await outbox.settled();

  t.ok(outbox.bytes <= CAP, `the outbox is within its cap (${outbox.bytes} <= ${CAP})`);
  t.ok(largest <= CAP, `after every drop pass too (largest ${largest})`);
  const stats = await api.get<{ uplink: { state: string; connected: boolean; backlog: { count: number; bytes: number }; dropped_total: number; dropped_by_device: Record<string, number>; absorb_seconds_estimate: number | null; last_error: string | null } }>('/v1/iot/stats');
  const u = stats.body.uplink;
  t.not(u.state, 'connected');
  t.equal(u.connected, false);
  t.ok(u.last_error, `the connection error is shown: ${u.last_error}`);
  t.equal(u.backlog.count + u.dropped_total, 2 * PER_DEVICE, 'every acknowledged message is either in the outbox or counted as dropped');
  t.equal(Object.values(u.dropped_by_device).reduce((a, b) => a + b, 0), u.dropped_total);
  t.ok(u.absorb_seconds_estimate !== null && u.absorb_seconds_estimate >= 0, `absorb estimate: ${u.absorb_seconds_estimate} s`);
  const backlog = u.backlog.count;

  await cloud.start();
  await outboxEmpty(outbox, 20_000);
  const got = cloud.unique();
  t.equal(got.length, backlog, 'the cloud gets exactly what the outbox held');
  for (const d of devs) {
    const ns = got.filter((m) => m.device_id === d.device_id).map((m) => (m.json as { n: number }).n);
    const dropped = u.dropped_by_device[d.device_id] ?? 0;
    t.equal(ns.length + dropped, PER_DEVICE, `${d.device_id}: delivered + dropped = sent`);
    t.same(ns, Array.from({ length: ns.length }, (_, i) => PER_DEVICE - ns.length + i), 'the newest messages, contiguous and in order: the oldest went first');
  }
  const after = await api.get<{ uplink: { dropped_total: number } }>('/v1/iot/stats');
  t.equal(after.body.uplink.dropped_total, u.dropped_total, 'drop counters persist');
});
