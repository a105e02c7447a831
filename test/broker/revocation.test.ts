import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { closeOf, collect, connackOf, connectApp, connectDevice, createKey, deviceOptions, subscribed, tlsOptions, untilCount } from './mqtt-helpers.js';

const WITHIN_MS = 1_000;
const NOT_AUTHORIZED = 5;
const BAD_USER_OR_PASSWORD = 4;

interface Detail { online: boolean; last_seen: string | null }

t.test('presence: online while connected, last_seen, offline after', async (t) => {
  const { gw, api } = await withGateway(t);
  const device = await registerDevice(api);
  const client = await connectDevice(t, { port: gw.gateway.mqttPort, caPem: gw.caPem }, device);
  const online = await api.get<Detail>(`/v1/iot/devices/${device.device_id}`);
  t.equal(online.body.online, true);
  t.ok(online.body.last_seen, 'last_seen is set');
  const offline = new Promise<void>((resolve) => gw.gateway.presence.events.on('offline', (id) => { if (id === device.device_id) resolve(); }));
  await client.endAsync();
  await offline;
  const after = await api.get<Detail>(`/v1/iot/devices/${device.device_id}`);
  t.equal(after.body.online, false);
  t.ok(after.body.last_seen);
});

t.test('disabling a device disconnects it within 1 s and refuses it until enabled again', async (t) => {
  const { gw, api } = await withGateway(t);
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const device = await registerDevice(api);
  const bystander = await registerDevice(api);
  const watcher = await connectApp(t, target, 'watch', await createKey(api, 'watch', ['mqtt']));
  await watcher.subscribeAsync('devices/+/status', { qos: 1 });
  const statuses = collect(watcher);
  const will = { topic: `devices/${device.device_id}/status`, payload: Buffer.from('offline'), qos: 1 as const, retain: false };
  const client = await connectDevice(t, target, device, { will });
  const closed = closeOf(client, WITHIN_MS);
  t.equal((await api.patch(`/v1/iot/devices/${device.device_id}`, { status: 'disabled' })).status, 200);
  t.ok(await closed <= WITHIN_MS, 'closed within 1 s');
  const other = await connectDevice(t, target, bystander);
  await other.publishAsync(`devices/${bystander.device_id}/status`, 'sentinel', { qos: 1 });
  await untilCount(watcher, statuses, 1);
  t.same(statuses.map((m) => m.payload.toString()), ['sentinel'], 'the will of a disabled device is not published');
  t.equal((await api.get<Detail>(`/v1/iot/devices/${device.device_id}`)).body.online, false);
  t.equal((await connackOf(deviceOptions(target, device))).code, NOT_AUTHORIZED, 'a disabled device is not authorized');
  await api.patch(`/v1/iot/devices/${device.device_id}`, { status: 'active' });
  t.equal((await connackOf(deviceOptions(target, device))).code, 0, 'enabled again: it connects');
});

t.test('deleting a device disconnects it within 1 s and removes its session', async (t) => {
  const { gw, api } = await withGateway(t);
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const device = await registerDevice(api);
  const id = device.device_id;
  // A persistent session with a subscription and a queued command, and a stored configuration.
  const first = await connectDevice(t, target, device, { clean: false });
  const sub = subscribed(gw.gateway, id, `devices/${id}/commands`);
  await first.subscribeAsync(`devices/${id}/commands`, { qos: 1 });
  await sub;
  await first.endAsync();
  t.equal((await api.post<{ status: string }>(`/v1/iot/devices/${id}/commands`, { command: 'queued-then-deleted' })).body.status, 'queued');
  await api.put(`/v1/iot/devices/${id}/config`, { interval: 5 });
  const sessionKeys = async (): Promise<string[]> => {
    const keys: string[] = [];
    for await (const key of gw.gateway.store.raw.keys({ gte: '!ses!', lt: '!ses"' })) if (key.includes(id)) keys.push(key);
    return keys;
  };
  t.ok((await sessionKeys()).length > 0, 'the session is stored');

  const client = await connectDevice(t, target, device, { clean: false });
  const closed = closeOf(client, WITHIN_MS);
  const forgotten = new Promise<void>((resolve) => gw.gateway.mqtt?.events.on('forgotten', (gone) => { if (gone === id) resolve(); }));
  t.equal((await api.delete(`/v1/iot/devices/${id}`)).status, 204);
  t.ok(await closed <= WITHIN_MS, 'closed within 1 s');
  t.equal((await connackOf(deviceOptions(target, device))).code, BAD_USER_OR_PASSWORD, 'a deleted device cannot connect');
  await forgotten;
  t.same(await sessionKeys(), [], 'no subscription, queued message, retained config or will of it is left');
  t.equal((await gw.gateway.mqtt?.configs.get(id)), undefined, 'nor its stored configuration');
});

t.test('rotating credentials: the connection closes within 1 s, the old password is refused, the new one works', async (t) => {
  const { gw, api } = await withGateway(t);
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const device = await registerDevice(api);
  const client = await connectDevice(t, target, device);
  const closed = closeOf(client, WITHIN_MS);
  const res = await api.post<{ device_id: string; mqtt_credentials: { username: string; password: string; client_id: string } }>(`/v1/iot/devices/${device.device_id}/credentials/rotate`);
  t.equal(res.status, 200);
  t.equal(res.body.device_id, device.device_id);
  t.equal(res.body.mqtt_credentials.username, device.device_id);
  t.equal(res.body.mqtt_credentials.client_id, device.device_id);
  t.not(res.body.mqtt_credentials.password, device.mqtt_credentials.password, 'a new password');
  t.ok(await closed <= WITHIN_MS, 'the connection closed within 1 s');
  t.equal((await connackOf(deviceOptions(target, device))).code, BAD_USER_OR_PASSWORD, 'the old password is refused');
  const rotated = { ...device, mqtt_credentials: res.body.mqtt_credentials };
  t.equal((await connackOf(deviceOptions(target, rotated))).code, 0, 'the new password works');
  t.equal((await api.post(`/v1/iot/devices/iot_dev_000000000000/credentials/rotate`)).status, 404, 'unknown device → 404');
});

t.test('revoking an API key closes the MQTT connections made with it within 1 s; other applications stay', async (t) => {
  const { gw, api } = await withGateway(t);
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const bmsKey = await createKey(api, 'bms', ['mqtt']);
  const first = await connectApp(t, target, 'bms', bmsKey);
  const second = await connectApp(t, target, 'bms', bmsKey, { clientId: 'bms-second' });
  const other = await connectApp(t, target, 'other', await createKey(api, 'other', ['mqtt']));
  const closedFirst = closeOf(first, WITHIN_MS);
  const closedSecond = closeOf(second, WITHIN_MS);
  t.equal((await api.delete('/v1/iot/keys/bms')).status, 204);
  t.ok(await closedFirst <= WITHIN_MS, 'the first connection closed within 1 s');
  t.ok(await closedSecond <= WITHIN_MS, 'and the second');
  t.equal((await connackOf(tlsOptions(target, { username: 'app:bms', password: bmsKey, clientId: 'bms-again' }))).code, BAD_USER_OR_PASSWORD, 'the revoked key no longer connects');
  t.ok(other.connected, 'an application with another key is still connected');
  await other.subscribeAsync('devices/+/telemetry', { qos: 1 });
  t.equal((await api.get<{ messages: { connected_apps: number } }>('/v1/iot/stats')).body.messages.connected_apps, 1, '/stats counts one application');
});
