import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { collect, connectApp, connectDevice, createKey, untilCount } from './mqtt-helpers.js';

const MESSAGES = 300;

t.test('a device publishing 1000 msg/s QoS 1 is slowed to about 100 msg/s, and loses nothing', async (t) => {
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_MQTT_RATE_LIMIT: '100', WAYS_EDGE_MQTT_RATE_BURST: '100' } });
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const device = await registerDevice(api);
  const other = await registerDevice(api);
  const watcher = await connectApp(t, target, 'watch', await createKey(api, 'watch', ['mqtt']));
  await watcher.subscribeAsync(`devices/${device.device_id}/telemetry`, { qos: 1 });
  const seen = collect(watcher);
  const client = await connectDevice(t, target, device);
  const topic = `devices/${device.device_id}/telemetry`;

  // 10 messages every 10 ms: 1000 msg/s offered. Each resolves on its PUBACK.
  const t0 = performance.now();
  const acks: Array<Promise<unknown>> = [];
  await new Promise<void>((resolve) => {
    let sent = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < 10 && sent < MESSAGES; i++, sent++) acks.push(client.publishAsync(topic, String(sent), { qos: 1 }));
      if (sent >= MESSAGES) { clearInterval(timer); resolve(); }
    }, 10);
  });
  const offeredSeconds = (performance.now() - t0) / 1000;

  // Meanwhile another device is not slowed by it.
  const bystander = await connectDevice(t, target, other);
  const b0 = performance.now();
  await bystander.publishAsync(`devices/${other.device_id}/telemetry`, 'unhindered', { qos: 1 });
  const bystanderMs = performance.now() - b0;

  await Promise.all(acks);
  const seconds = (performance.now() - t0) / 1000;
  const rate = MESSAGES / seconds;
  t.ok(offeredSeconds < seconds / 2, `offered at about 1000 msg/s (${MESSAGES} in ${offeredSeconds.toFixed(2)} s), far faster than acknowledged`);
  t.ok(rate < 300, `acknowledged at ${rate.toFixed(0)} msg/s: slowed well below the offered rate (burst 100, then 100/s)`);
  t.ok(bystanderMs < seconds * 1000 / 2, `another device's message was acknowledged in ${bystanderMs.toFixed(0)} ms`);

  await untilCount(watcher, seen, MESSAGES);
  t.same(seen.map((m) => m.payload.toString()), Array.from({ length: MESSAGES }, (_, i) => String(i)), 'every message routed once, in order: nothing dropped');
  const usage = await api.get<{ totals: { messages_in: number; throttled: number; rejected: number } }>(`/v1/iot/usage?device_id=${device.device_id}`);
  t.equal(usage.body.totals.messages_in, MESSAGES, 'all counted in');
  t.equal(usage.body.totals.rejected, 0, 'none refused');
  t.ok(usage.body.totals.throttled >= MESSAGES - 150, `messages that had to wait are counted as throttled (${usage.body.totals.throttled})`);
  t.ok(usage.body.totals.throttled < MESSAGES, 'the burst passed without waiting');
});

t.test('rate limit 0 switches the limit off', async (t) => {
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_MQTT_RATE_LIMIT: '0' } });
  const device = await registerDevice(api);
  const client = await connectDevice(t, { port: gw.gateway.mqttPort, caPem: gw.caPem }, device);
  const topic = `devices/${device.device_id}/telemetry`;
  await Promise.all(Array.from({ length: MESSAGES }, (_, i) => client.publishAsync(topic, String(i), { qos: 1 })));
  const usage = await api.get<{ totals: { messages_in: number; throttled: number } }>(`/v1/iot/usage?device_id=${device.device_id}`);
  t.equal(usage.body.totals.messages_in, MESSAGES);
  t.equal(usage.body.totals.throttled, 0, 'nothing waited');
});
