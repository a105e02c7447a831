import t from 'tap';
import mqtt, { type MqttClient } from 'mqtt';
import { spawnGateway } from '../helpers/spawn.js';
import { tempDir, removeDir } from '../helpers/gateway.js';
import { apiClient } from '../helpers/http.js';
import { registerDevice, type RegisteredDevice } from '../helpers/devices.js';
import { deviceOptions } from './mqtt-helpers.js';

interface Counters { messages_in: number; bytes_in: number; messages_out: number; bytes_out: number }
interface Usage { totals: Counters }

const KNOWN_SIZES = [5, 50, 500, 5000];
const STREAM_SIZE = 64;
/** QoS 1 messages each device keeps in flight while streaming. */
const WINDOW = 16;
/** Acknowledged streamed messages (all devices) before the gateway is killed. */
const ACKS_BEFORE_KILL = 400;

t.test('kill -9 while devices publish: no acknowledged message is missing from /usage or /quota after the restart', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const env = { WAYS_EDGE_MQTT_RATE_LIMIT: '0' };
  const first = await spawnGateway(dir, env);
  t.teardown(() => first.kill9());
  const target = { port: first.mqttPort, caPem: first.caPem() };
  t.ok(target.port > 0, 'the MQTT port was learnt from the mqtt_listening log line');
  const api = apiClient(`https://127.0.0.1:${first.apiPort}`, target.caPem, first.adminKey());
  t.teardown(() => api.close());
  const devices: RegisteredDevice[] = [];
  for (let i = 0; i < 3; i++) devices.push(await registerDevice(api));

  const clients: MqttClient[] = [];
  for (const device of devices) {
    const client = await mqtt.connectAsync(deviceOptions(target, device));
    client.on('error', () => undefined);
    t.teardown(() => client.endAsync(true));
    clients.push(client);
  }

  // Known traffic first: exact numbers before the crash.
  for (const [i, client] of clients.entries()) {
    const id = (devices[i] as RegisteredDevice).device_id;
    for (const size of KNOWN_SIZES) await client.publishAsync(`devices/${id}/telemetry`, Buffer.alloc(size, 0x41), { qos: 1 });
  }
  const knownBytes = KNOWN_SIZES.reduce((a, b) => a + b, 0);
  for (const device of devices) {
    const usage = await api.get<Usage>(`/v1/iot/usage?device_id=${device.device_id}`);
    t.match(usage.body.totals, { messages_in: KNOWN_SIZES.length, bytes_in: knownBytes }, 'known traffic counted exactly');
  }

  // Then every device streams with a window of unacknowledged messages until the kill.
  const acked = devices.map(() => 0);
  const sent = devices.map(() => 0);
  let totalAcked = 0;
  let reachedKillPoint: () => void = () => undefined;
  const killPoint = new Promise<void>((resolve) => { reachedKillPoint = resolve; });
  let streaming = true;
  for (const [i, client] of clients.entries()) {
    const topic = `devices/${(devices[i] as RegisteredDevice).device_id}/telemetry`;
    const sendOne = (): void => {
      if (!streaming) return;
      sent[i] = (sent[i] as number) + 1;
      client.publish(topic, Buffer.alloc(STREAM_SIZE, 0x42), { qos: 1 }, (err) => {
        if (err) return;
        acked[i] = (acked[i] as number) + 1;
        if (++totalAcked === ACKS_BEFORE_KILL) reachedKillPoint();
        sendOne();
      });
    };
    for (let w = 0; w < WINDOW; w++) sendOne();
  }
  await killPoint;
  await first.kill9();
  streaming = false;
  t.ok(totalAcked >= ACKS_BEFORE_KILL, `${totalAcked} streamed messages were acknowledged before the kill`);
  t.ok(sent.reduce((a, b) => a + b, 0) > totalAcked, 'and more were in flight when it died');

  const second = await spawnGateway(dir, env);
  t.teardown(() => second.stop());
  const api2 = apiClient(`https://127.0.0.1:${second.apiPort}`, second.caPem(), second.adminKey());
  t.teardown(() => api2.close());
  let storedTotal = 0;
  for (const [i, device] of devices.entries()) {
    const usage = (await api2.get<Usage>(`/v1/iot/usage?device_id=${device.device_id}`)).body.totals;
    const streamed = usage.messages_in - KNOWN_SIZES.length;
    t.ok(streamed >= (acked[i] as number), `device ${i}: ${streamed} streamed messages counted ≥ ${acked[i]} acknowledged`);
    t.ok(streamed <= (sent[i] as number), `device ${i}: and not more than were sent (${sent[i]})`);
    t.equal(usage.bytes_in, knownBytes + streamed * STREAM_SIZE, `device ${i}: bytes agree with the message count`);
    storedTotal += usage.messages_in;
  }
  const quota = await api2.get<{ current_messages: number }>('/v1/iot/quota');
  t.equal(quota.body.current_messages, storedTotal, '/quota agrees with /usage after the restart');
  t.ok(storedTotal >= KNOWN_SIZES.length * devices.length + totalAcked, 'nothing acknowledged is missing');
});
