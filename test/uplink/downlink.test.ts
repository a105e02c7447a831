import t from 'tap';
import type { MqttClient } from 'mqtt';
import { startGateway, removeDir, tempDir, type TestGateway } from '../helpers/gateway.js';
import { apiClient } from '../helpers/http.js';
import { registerDevice } from '../helpers/devices.js';
import { TestCloud } from './helpers/cloud.js';
import { connectDevice } from './helpers/devices.js';

const GW = 'iot_dev_gatewaydown001';

function nextMessages(client: MqttClient, count: number): Promise<Array<{ topic: string; payload: string; retain: boolean }>> {
  const got: Array<{ topic: string; payload: string; retain: boolean }> = [];
  return new Promise((resolve) => {
    const on = (topic: string, payload: Buffer, packet: { retain: boolean }): void => {
      got.push({ topic, payload: payload.toString(), retain: packet.retain });
      if (got.length === count) { client.off('message', on); resolve(got); }
    };
    client.on('message', on);
  });
}

t.test('cloud commands reach an offline device when it connects, across a gateway restart and a gateway outage', async (t) => {
  const cloud = new TestCloud({ username: GW });
  await cloud.start();
  t.teardown(() => cloud.stop());
  const dataDir = tempDir();
  t.teardown(() => removeDir(dataDir));
  const env = { WAYS_EDGE_CLOUD_URL: cloud.url, WAYS_EDGE_CLOUD_USERNAME: GW, WAYS_EDGE_CLOUD_RECONNECT_MIN_MS: '50', WAYS_EDGE_CLOUD_RECONNECT_MAX_MS: '200' };
  let gw: TestGateway = await startGateway({ dataDir, keep: true, env });
  t.teardown(() => gw.stop());
  let api = apiClient(gw.baseUrl, gw.caPem, gw.adminKey);
  const device = await registerDevice(api);
  const other = await registerDevice(api);
  await api.close();

  // The device has a persistent session with its command and config subscriptions, then goes offline.
  let client = await connectDevice(gw.gateway.mqttPort, gw.caPem, device, { clean: false });
  await client.subscribeAsync([`devices/${device.device_id}/commands`, `devices/${device.device_id}/config`], { qos: 1 });
  await client.endAsync();
  await cloud.until(() => cloud.connects > 0 && cloud.statuses.length > 0, 10_000, 'gateway connected');

  const commands = `devices/${GW}/commands`;
  let acks = cloud.acks;
  await cloud.publish(commands, JSON.stringify({ device_id: device.device_id, topic: 'commands', payload: { command: 'reboot', params: { delay: 5 } }, message_id: 'c-1' }));
  await cloud.publish(commands, JSON.stringify({ device_id: device.device_id, topic: 'config', payload: { interval: 30 } }));
  await cloud.publish(commands, JSON.stringify({ device_id: 'iot_dev_doesnotexist', payload: {} }));
  await cloud.publish(commands, 'this is not json');
  await cloud.publish(commands, JSON.stringify({ device_id: device.device_id, topic: 'telemetry', payload: 1 }));
  await cloud.until(() => cloud.acks >= acks + 5, 10_000, 'the gateway acknowledged all five');
  const stats = gw.gateway.uplink?.snapshot().downlink as { queued: number; dropped: number };
  t.same(stats, { delivered: 0, queued: 2, dropped: 3 }, 'two queued for the offline device; unknown device, bad JSON and a bad topic dropped (logged, no crash)');

  // The gateway restarts; then it is away while the cloud has a command for the device (the cloud
  // keeps it in the gateway's persistent session).
  gw = await gw.restart();
  await cloud.until(() => cloud.connects >= 2, 10_000, 'gateway back');
  await gw.stop();
  await cloud.publish(commands, JSON.stringify({ device_id: device.device_id, payload_base64: Buffer.from([1, 2, 3]).toString('base64') }));
  acks = cloud.acks;
  gw = await startGateway({ dataDir, keep: true, env });
  await cloud.until(() => cloud.acks > acks, 10_000, 'the command queued during the outage was taken');

  client = await connectDevice(gw.gateway.mqttPort, gw.caPem, device, { clean: false });
  const got = await nextMessages(client, 3);
  await client.endAsync();
  const byTopic = (suffix: string): Array<{ payload: string; retain: boolean }> => got.filter((m) => m.topic === `devices/${device.device_id}/${suffix}`);
  t.same(byTopic('commands').map((m) => m.payload), [JSON.stringify({ command: 'reboot', params: { delay: 5 } }), '\u0001\u0002\u0003'], 'both commands, in order; payload as JSON text, payload_base64 as bytes');
  t.same(byTopic('config').map((m) => JSON.parse(m.payload) as unknown), [{ interval: 30 }], 'the configuration');

  api = apiClient(gw.baseUrl, gw.caPem, gw.adminKey);
  const cfg = await api.get(`/v1/iot/devices/${device.device_id}/config`);
  t.same(cfg.body, { interval: 30 }, 'GET /devices/{id}/config shows what the cloud set');
  await api.close();

  // A device subscribing later gets the retained configuration (config is retained by default).
  const late = await connectDevice(gw.gateway.mqttPort, gw.caPem, device, { clean: true });
  const retained = nextMessages(late, 1);
  await late.subscribeAsync(`devices/${device.device_id}/config`, { qos: 1 });
  t.match((await retained)[0], { retain: true, payload: JSON.stringify({ interval: 30 }) });
  await late.endAsync();
  void other;
});
