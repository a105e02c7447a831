import t from 'tap';
import path from 'node:path';
import mqtt from 'mqtt';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { connectApp, createKey, nextMessage, subscribed } from './mqtt-helpers.js';
import { pythonWithPaho, runTool } from './tools.js';

/** test/broker/fixtures, from the compiled test in dist/test/broker. */
const FIXTURES = path.resolve(import.meta.dirname, '../../../test/broker/fixtures');

interface Command { command_id: string; command: string; params: Record<string, unknown>; sent_at: string }

t.test('the seed\'s Node.js (mqtt) example: credentials from POST /devices, telemetry QoS 1, a command from the API', async (t) => {
  const { gw, api } = await withGateway(t);
  const device = await registerDevice(api, 'Temperature Sensor 01');
  const watcher = await connectApp(t, { port: gw.gateway.mqttPort, caPem: gw.caPem }, 'dashboard', await createKey(api, 'dashboard', ['mqtt']));
  await watcher.subscribeAsync('devices/+/telemetry', { qos: 1 });
  const telemetry = nextMessage(watcher, `devices/${device.device_id}/telemetry`);
  const isSubscribed = subscribed(gw.gateway, device.device_id, `devices/${device.device_id}/commands`);

  // The seed's program, with the gateway's host, port and CA.
  const options = {
    host: '127.0.0.1',
    port: gw.gateway.mqttPort,
    protocol: 'mqtts' as const,
    username: device.mqtt_credentials.username,
    password: device.mqtt_credentials.password,
    clientId: device.mqtt_credentials.client_id,
    ca: gw.caPem,
    servername: 'localhost',
  };
  const client = mqtt.connect(options);
  t.teardown(() => client.endAsync(true));
  const received = new Promise<{ topic: string; message: Buffer }>((resolve) => client.on('message', (topic, message) => resolve({ topic, message })));
  client.on('connect', () => {
    client.subscribe(`devices/${options.clientId}/commands`);
    const data = { temperature: 22.5, humidity: 65, timestamp: new Date().toISOString() };
    client.publish(`devices/${options.clientId}/telemetry`, JSON.stringify(data), { qos: 1 });
  });

  t.match(JSON.parse((await telemetry).payload.toString()), { temperature: 22.5, humidity: 65 }, 'the telemetry arrived');
  await isSubscribed;
  const sent = await api.post<{ command_id: string; status: string }>(`/v1/iot/devices/${device.device_id}/commands`, { command: 'set_interval', params: { seconds: 30 } });
  t.equal(sent.status, 202);
  t.equal(sent.body.status, 'delivered');
  const { topic, message } = await received;
  t.equal(topic, `devices/${device.device_id}/commands`);
  const command = JSON.parse(message.toString()) as Command;
  t.same({ ...command, sent_at: 'x' }, { command_id: sent.body.command_id, command: 'set_interval', params: { seconds: 30 }, sent_at: 'x' });
  t.ok(Number.isFinite(Date.parse(command.sent_at)), 'sent_at is a time');

  const detail = await api.get<{ online: boolean; messages_in: number; messages_out: number; last_seen: string | null }>(`/v1/iot/devices/${device.device_id}`);
  t.equal(detail.body.online, true);
  t.equal(detail.body.messages_in, 1);
  t.equal(detail.body.messages_out, 1);
  t.ok(detail.body.last_seen);
});

t.test('the seed\'s Python (paho-mqtt) example, run by python3 with Debian\'s python3-paho-mqtt', async (t) => {
  const python = pythonWithPaho();
  if (!python) { t.fail('needs python3 with paho-mqtt: apt-get install -y python3-paho-mqtt'); return; }
  const { gw, api } = await withGateway(t);
  const device = await registerDevice(api, 'Temperature Sensor 01');
  const watcher = await connectApp(t, { port: gw.gateway.mqttPort, caPem: gw.caPem }, 'dashboard', await createKey(api, 'dashboard', ['mqtt']));
  await watcher.subscribeAsync('devices/+/telemetry', { qos: 1 });
  const telemetry = nextMessage(watcher, `devices/${device.device_id}/telemetry`, 20_000);
  const isSubscribed = subscribed(gw.gateway, device.device_id, `devices/${device.device_id}/commands`);

  const c = device.mqtt_credentials;
  const run = runTool(python, [path.join(FIXTURES, 'seed_example.py')], undefined, {
    PATH: process.env.PATH ?? '', PYTHONUNBUFFERED: '1',
    MQTT_PORT: String(gw.gateway.mqttPort), CA_FILE: path.join(gw.dataDir, 'certs', 'ca.crt'),
    DEVICE_ID: device.device_id, MQTT_USERNAME: c.username, MQTT_PASSWORD: c.password,
  });
  t.match(JSON.parse((await telemetry).payload.toString()), { temperature: 22.5, humidity: 65, timestamp: '2025-11-05T10:35:00Z' }, 'the script\'s telemetry arrived');
  await isSubscribed;
  const sent = await api.post<{ command_id: string; status: string }>(`/v1/iot/devices/${device.device_id}/commands`, { command: 'reboot' });
  t.equal(sent.body.status, 'delivered');
  const result = await run;
  t.equal(result.code, 0, `the script exited after one command ${result.stderr}`);
  t.match(result.stdout, /^Connected with result code 0$/m);
  t.match(result.stdout, new RegExp(`^Received: devices/${device.device_id}/commands \\{"command_id":"${sent.body.command_id}","command":"reboot"`, 'm'), 'it printed the command');
});
