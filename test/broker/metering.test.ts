import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice, type RegisteredDevice } from '../helpers/devices.js';
import { collect, connectApp, connectDevice, createKey, nextMessage, subscribed, untilCount } from './mqtt-helpers.js';

interface Counters { messages_in: number; messages_out: number; bytes_in: number; bytes_out: number; throttled: number; rejected: number }
interface Usage { days: Array<Counters & { date: string }>; totals: Counters }
interface Quota { current_messages: number; current_bandwidth_gb: number; max_messages_per_month: number }

/** Message sizes per device: known, distinct, so every byte is accounted for. */
const PLAN: number[][] = [
  [1, 10, 100, 1000],
  [7, 70, 700],
  [3, 33, 333, 3333, 33333],
];

t.test('known messages from several devices show up exactly in /usage, /quota and the device details', async (t) => {
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_MQTT_RATE_LIMIT: '0' } });
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const devices: RegisteredDevice[] = [];
  for (let i = 0; i < PLAN.length; i++) devices.push(await registerDevice(api));
  // An application watching: deliveries to applications are not device traffic and are not metered.
  const watcher = await connectApp(t, target, 'watch', await createKey(api, 'watch', ['mqtt']));
  await watcher.subscribeAsync('devices/+/telemetry', { qos: 1 });
  const seen = collect(watcher);

  let sent = 0;
  for (const [i, sizes] of PLAN.entries()) {
    const device = devices[i] as RegisteredDevice;
    const client = await connectDevice(t, target, device);
    for (const size of sizes) await client.publishAsync(`devices/${device.device_id}/telemetry`, Buffer.alloc(size, 0x61 + i), { qos: 1 });
    sent += sizes.length;
  }
  await untilCount(watcher, seen, sent);

  // One command to the first device: one message out, its payload's bytes.
  const first = devices[0] as RegisteredDevice;
  const cmdClient = await connectDevice(t, target, first);
  const sub = subscribed(gw.gateway, first.device_id, `devices/${first.device_id}/commands`);
  await cmdClient.subscribeAsync(`devices/${first.device_id}/commands`, { qos: 1 });
  await sub;
  const arrived = nextMessage(cmdClient, `devices/${first.device_id}/commands`);
  await api.post(`/v1/iot/devices/${first.device_id}/commands`, { command: 'ping' });
  const commandBytes = (await arrived).payload.length;

  let allMessages = 0;
  let allBytes = 0;
  for (const [i, sizes] of PLAN.entries()) {
    const device = devices[i] as RegisteredDevice;
    const bytesIn = sizes.reduce((a, b) => a + b, 0);
    const out = i === 0 ? { messages_out: 1, bytes_out: commandBytes } : { messages_out: 0, bytes_out: 0 };
    const usage = await api.get<Usage>(`/v1/iot/usage?device_id=${device.device_id}`);
    t.same(usage.body.totals, { messages_in: sizes.length, bytes_in: bytesIn, ...out, throttled: 0, rejected: 0 }, `device ${i}: /usage totals exact`);
    t.equal(usage.body.days.length, 1, 'one day row');
    const detail = await api.get<Counters>(`/v1/iot/devices/${device.device_id}`);
    t.match(detail.body, { messages_in: sizes.length, bytes_in: bytesIn, ...out }, `device ${i}: GET /devices/{id} counters exact`);
    allMessages += sizes.length + out.messages_out;
    allBytes += bytesIn + out.bytes_out;
  }
  const all = await api.get<Usage>('/v1/iot/usage');
  t.same(all.body.totals, {
    messages_in: sent, messages_out: 1, bytes_in: allBytes - commandBytes, bytes_out: commandBytes, throttled: 0, rejected: 0,
  }, '/usage over all devices: exact');
  const quota = await api.get<Quota>('/v1/iot/quota');
  t.equal(quota.body.current_messages, allMessages, '/quota current_messages = messages in + out');
  t.equal(quota.body.current_bandwidth_gb, Math.round((allBytes / 1e9) * 1000) / 1000, '/quota current_bandwidth_gb from the same bytes');
});

t.test('the monthly message quota is enforced: a device over it is refused and counted as rejected', async (t) => {
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_QUOTA_MAX_MESSAGES_PER_MONTH: '5' } });
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const device = await registerDevice(api);
  const topic = `devices/${device.device_id}/telemetry`;
  const client = await connectDevice(t, target, device);
  for (let i = 0; i < 5; i++) await client.publishAsync(topic, `m${i}`, { qos: 1 });
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  let acked = false;
  client.publish(topic, 'one too many', { qos: 1 }, (err) => { if (!err) acked = true; });
  await closed;
  t.notOk(acked, 'the sixth message was not acknowledged; the connection closed');
  const usage = await api.get<Usage>(`/v1/iot/usage?device_id=${device.device_id}`);
  t.equal(usage.body.totals.messages_in, 5);
  t.equal(usage.body.totals.rejected, 1);
  const quota = await api.get<Quota>('/v1/iot/quota');
  t.equal(quota.body.current_messages, 5);
  t.equal(quota.body.max_messages_per_month, 5);
  const again = await connectDevice(t, target, device);
  t.ok(again.connected, 'the device may still connect (to receive commands)');
});
