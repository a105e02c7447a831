import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { Store } from '../../src/store/store.js';
import type { DeviceRecord } from '../../src/devices/device.js';
import { startGateway, removeDir, type TestGateway } from '../helpers/gateway.js';
import { apiClient } from '../helpers/http.js';
import { registerDevice } from '../helpers/devices.js';
import { legacyScryptHash } from '../auth/legacy-hash.js';
import { connackOf, connectDevice, deviceOptions } from './mqtt-helpers.js';

const BAD_USER_OR_PASSWORD = 4;

t.test('device password hashes: new ones are salted SHA-256; a scrypt store logs in, is upgraded, and the device stays connected', async (t) => {
  let gw: TestGateway = await startGateway({ keep: true });
  const dataDir = gw.dataDir;
  t.teardown(async () => { await gw.stop(); removeDir(dataDir); });
  let api = apiClient(gw.baseUrl, gw.caPem, gw.adminKey);
  const fresh = await registerDevice(api);
  const old = await registerDevice(api);
  const oldWrong = await registerDevice(api);
  await api.close();
  t.match(gw.gateway.registry.get(fresh.device_id)?.password_hash, /^sha256\$/, 'a new device\'s hash is the new format');
  let target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  t.equal((await connackOf(deviceOptions(target, fresh))).code, 0, 'and it logs in');
  t.equal((await connackOf(deviceOptions(target, fresh, { password: `${fresh.mqtt_credentials.password.slice(0, -1)}!` }))).code, BAD_USER_OR_PASSWORD, 'a wrong password → CONNACK 4');

  // A store written by an earlier version: scrypt hashes of the same passwords.
  await gw.stop();
  const legacy = new Map([old, oldWrong].map((d) => [d.device_id, legacyScryptHash(d.mqtt_credentials.password)]));
  const store = new Store(dataDir);
  await store.start();
  const devices = store.json<DeviceRecord>('devices');
  for (const [id, hash] of legacy) await devices.put(id, { ...(await devices.get(id)) as DeviceRecord, password_hash: hash });
  await store.stop();

  gw = await startGateway({ dataDir, keep: true });
  target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const registry = gw.gateway.registry;
  t.equal(registry.get(old.device_id)?.password_hash, legacy.get(old.device_id), 'the store holds a scrypt hash');

  t.equal((await connackOf(deviceOptions(target, oldWrong, { password: `${oldWrong.mqtt_credentials.password}x` }))).code, BAD_USER_OR_PASSWORD, 'a wrong password against a scrypt hash → CONNACK 4');
  t.equal(registry.get(oldWrong.device_id)?.password_hash, legacy.get(oldWrong.device_id), '... and the hash stays as it was');

  const client = await connectDevice(t, target, old);
  const upgraded = registry.get(old.device_id)?.password_hash;
  t.match(upgraded, /^sha256\$/, 'after the login the hash is the new format');
  let closed = false;
  client.on('close', () => { closed = true; });
  await sleep(300);
  t.equal(closed, false, 'the upgrade did not make the login stale: the device stays connected');
  t.equal(gw.gateway.presence.isOnline(old.device_id), true, 'online');
  await client.publishAsync(`devices/${old.device_id}/telemetry`, JSON.stringify({ t: 21.5 }), { qos: 1 });
  t.pass('and it publishes (QoS 1 acknowledged)');
  await client.endAsync();

  t.equal((await connackOf(deviceOptions(target, old))).code, 0, 'it logs in again against the new hash');
  t.equal(registry.get(old.device_id)?.password_hash, upgraded, 'which stays');
  gw = await gw.restart();
  t.equal(gw.gateway.registry.get(old.device_id)?.password_hash, upgraded, 'the upgrade was written to the store');
  t.equal((await connackOf(deviceOptions({ port: gw.gateway.mqttPort, caPem: gw.caPem }, old))).code, 0, 'and logs in after a restart');
});
