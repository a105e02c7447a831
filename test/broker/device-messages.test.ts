import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { apiClient } from '../helpers/http.js';
import { startGateway, removeDir } from '../helpers/gateway.js';
import { collect, connectDevice, createKey, nextMessage, subscribed, untilCount } from './mqtt-helpers.js';

interface ErrorBody { error: { code: string; message: string; details?: Array<{ field: string; reason: string }> } }
interface Accepted { command_id: string; status: string }

t.test('requests are validated field by field; unknown devices are 404; only admin keys send', async (t) => {
  const { gw, api } = await withGateway(t);
  const device = await registerDevice(api);
  const base = `/v1/iot/devices/${device.device_id}`;
  const cases: Array<[string, string, unknown, string]> = [
    ['POST', 'commands', {}, 'command'],
    ['POST', 'commands', { command: '' }, 'command'],
    ['POST', 'commands', { command: 5 }, 'command'],
    ['POST', 'commands', { command: 'x'.repeat(129) }, 'command'],
    ['POST', 'commands', { command: 'go', params: [1] }, 'params'],
    ['POST', 'commands', { command: 'go', params: 'fast' }, 'params'],
    ['POST', 'commands', { command: 'go', priority: 1 }, 'priority'],
    ['POST', 'commands', ['go'], 'body'],
    ['PUT', 'config', [1, 2], 'body'],
    ['POST', 'firmware', { url: 'https://example.com/fw.bin' }, 'version'],
    ['POST', 'firmware', { version: '1.2.3' }, 'url'],
    ['POST', 'firmware', { version: '1.2.3', url: 'ftp://example.com/fw.bin' }, 'url'],
    ['POST', 'firmware', { version: '1.2.3', url: 'not a url' }, 'url'],
    ['POST', 'firmware', { version: '1.2.3', url: 'https://example.com/fw.bin', sha256: 'abc' }, 'sha256'],
    ['POST', 'firmware', { version: '1.2.3', url: 'https://example.com/fw.bin', signature: 'x' }, 'signature'],
  ];
  for (const [method, path, body, field] of cases) {
    const res = await api.raw(method, `${base}/${path}`, { rawBody: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    t.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body).slice(0, 50)} → 400`);
    t.equal((res.body as ErrorBody).error.details?.[0]?.field, field, `names the field ${field}`);
  }
  const unknown = '/v1/iot/devices/iot_dev_000000000000';
  for (const [method, path, body] of [['POST', 'commands', { command: 'x' }], ['PUT', 'config', { a: 1 }], ['GET', 'config', undefined], ['POST', 'firmware', { version: '1', url: 'https://x.example/f' }]] as const) {
    const res = await api.raw(method, `${unknown}/${path}`, body === undefined ? {} : { rawBody: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    t.equal(res.status, 404, `${method} ${path} for an unknown device → 404`);
    t.equal((res.body as ErrorBody).error.code, 'not_found');
  }
  const noConfig = await api.get<ErrorBody>(`${base}/config`);
  t.equal(noConfig.status, 404, 'GET config before any PUT → 404');
  t.match(noConfig.body.error.message, /no configuration/);

  const reader = apiClient(gw.baseUrl, gw.caPem, await createKey(api, 'reader', ['read']));
  t.teardown(() => reader.close());
  t.equal((await reader.post(`${base}/commands`, { command: 'x' })).status, 403, 'a read key may not send commands');
  t.equal((await reader.post(`${base}/credentials/rotate`)).status, 403, 'nor rotate credentials');

  const huge = await api.post<ErrorBody>(`${base}/commands`, { command: 'load', params: { blob: 'x'.repeat(gw.config.mqtt.max_message_bytes - 50) } });
  t.equal(huge.status, 413, 'a command larger than an MQTT message → 413');
});

t.test('commands, configuration and firmware reach a connected device; delivered vs queued', async (t) => {
  const { gw, api } = await withGateway(t);
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const device = await registerDevice(api);
  const id = device.device_id;
  const base = `/v1/iot/devices/${id}`;

  const offline = await api.post<Accepted>(`${base}/commands`, { command: 'nobody-listens' });
  t.equal(offline.status, 202);
  t.equal(offline.body.status, 'queued', 'no connection → queued');

  const client = await connectDevice(t, target, device);
  const sub = subscribed(gw.gateway, id, `devices/${id}/firmware`);
  await client.subscribeAsync([`devices/${id}/commands`, `devices/${id}/firmware`], { qos: 1 });
  await sub;
  const got = collect(client);

  const sent = await api.post<Accepted>(`${base}/commands`, { command: 'set_led', params: { on: true } });
  t.equal(sent.status, 202);
  t.match(sent.body, { command_id: /^[0-9a-f-]{36}$/, status: 'delivered' });
  const fw = await api.post<{ device_id: string; version: string; status: string }>(`${base}/firmware`, { version: '2.0.1', url: 'https://updates.example.com/fw-2.0.1.bin', sha256: 'AB'.repeat(32) });
  t.equal(fw.status, 202);
  t.same(fw.body, { device_id: id, version: '2.0.1', status: 'delivered' });
  await untilCount(client, got, 2);
  const [command, firmware] = got.map((m) => ({ topic: m.topic, qos: m.qos, body: JSON.parse(m.payload.toString()) as Record<string, unknown> }));
  t.match(command, { topic: `devices/${id}/commands`, qos: 1, body: { command_id: sent.body.command_id, command: 'set_led', params: { on: true }, sent_at: String } });
  t.match(firmware, { topic: `devices/${id}/firmware`, qos: 1, body: { version: '2.0.1', url: 'https://updates.example.com/fw-2.0.1.bin', sha256: 'ab'.repeat(32), sent_at: String } });
  t.notOk(got.some((m) => m.payload.toString().includes('nobody-listens')), 'a command queued for a clean-session device that was offline is not delivered later');

  // Configuration: stored for GET, retained for devices that subscribe later.
  const config = { interval_s: 30, thresholds: { temp_c: [18, 24] }, name: 'Living room' };
  const put = await api.put<{ device_id: string; status: string; updated_at: string }>(`${base}/config`, config);
  t.equal(put.status, 200);
  t.match(put.body, { device_id: id, status: 'queued' }, 'not subscribed to config yet → queued (retained)');
  const read = await api.get(`${base}/config`);
  t.equal(read.status, 200);
  t.same(read.body, config, 'GET returns exactly what was PUT');
  const retained = nextMessage(client, `devices/${id}/config`);
  await client.subscribeAsync(`devices/${id}/config`, { qos: 1 });
  const r = await retained;
  t.ok(r.retain, 'a later subscriber gets it as a retained message');
  t.same(JSON.parse(r.payload.toString()), config);
  const update = nextMessage(client, `devices/${id}/config`);
  const put2 = await api.put<{ status: string }>(`${base}/config`, { interval_s: 60 });
  t.equal(put2.body.status, 'delivered');
  t.same(JSON.parse((await update).payload.toString()), { interval_s: 60 });
  t.same((await api.get(`${base}/config`)).body, { interval_s: 60 }, 'GET follows the latest PUT');
});

t.test('a command for an offline device with a persistent session is delivered when it reconnects, also after a gateway restart', async (t) => {
  let gw = await startGateway();
  t.teardown(async () => { await gw.stop(); removeDir(gw.dataDir); });
  let api = apiClient(gw.baseUrl, gw.caPem, gw.adminKey);
  t.teardown(() => api.close());
  const device = await registerDevice(api);
  const id = device.device_id;
  const topic = `devices/${id}/commands`;

  // The device subscribes in a persistent session (clean=false), then goes away.
  const first = await connectDevice(t, { port: gw.gateway.mqttPort, caPem: gw.caPem }, device, { clean: false });
  const sub = subscribed(gw.gateway, id, topic);
  await first.subscribeAsync(topic, { qos: 1 });
  await sub;
  await first.endAsync();

  const before = await api.post<Accepted>(`/v1/iot/devices/${id}/commands`, { command: 'before-reconnect' });
  t.equal(before.body.status, 'queued');
  const second = await connectDevice(t, { port: gw.gateway.mqttPort, caPem: gw.caPem }, device, { clean: false });
  const m1 = await nextMessage(second, topic);
  t.equal((JSON.parse(m1.payload.toString()) as { command_id: string }).command_id, before.body.command_id, 'delivered on reconnect');
  await second.endAsync();

  const across = await api.post<Accepted>(`/v1/iot/devices/${id}/commands`, { command: 'across-restart', params: { n: 1 } });
  t.equal(across.body.status, 'queued');
  await api.close();
  gw = await gw.restart();
  api = apiClient(gw.baseUrl, gw.caPem, gw.adminKey);
  const third = await connectDevice(t, { port: gw.gateway.mqttPort, caPem: gw.caPem }, device, { clean: false });
  const m2 = await nextMessage(third, topic);
  t.match(JSON.parse(m2.payload.toString()), { command_id: across.body.command_id, command: 'across-restart', params: { n: 1 } }, 'delivered after the restart');
  t.equal(m2.qos, 1);
  const detail = await api.get<{ messages_out: number }>(`/v1/iot/devices/${id}`);
  t.equal(detail.body.messages_out, 2, 'both deliveries are counted out');
});
