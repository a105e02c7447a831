import t from 'tap';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { startGateway, tempDir, removeDir } from '../helpers/gateway.js';
import { apiClient } from '../helpers/http.js';
import { spawn } from 'node:child_process';
import { runCli, MAIN_JS } from '../helpers/spawn.js';
import { registerDevice } from '../helpers/devices.js';
import { connectDevice, createKey, collect } from '../broker/mqtt-helpers.js';
import type { BackupDocument } from '../../src/backup/document.js';
import { FORMAT_VERSION } from '../../src/store/layout.js';

const cliEnv = (dataDir: string): Record<string, string> => ({ WAYS_EDGE_DATA_DIR: dataDir, WAYS_EDGE_CLOUD_URL: '', WAYS_EDGE_DISCOVERY_ENABLED: 'false' });

t.test('backup of a stopped gateway, restore into a new directory: same devices, keys, configs and CA', async (t) => {
  const source = tempDir();
  const restored = tempDir();
  const work = tempDir('ways-edge-backups-');
  t.teardown(() => { removeDir(source); removeDir(restored); removeDir(work); });

  // The source gateway: a device with a configuration, and a second API key.
  const gwA = await startGateway({ dataDir: source, keep: true });
  const apiA = apiClient(gwA.baseUrl, gwA.caPem, gwA.adminKey);
  const device = await registerDevice(apiA, 'Boiler room');
  const deviceConfig = { interval_s: 30, unit: 'C' };
  t.equal((await apiA.put(`/v1/iot/devices/${device.device_id}/config`, deviceConfig)).status, 200);
  const bmsKey = await createKey(apiA, 'bms', ['read', 'mqtt']);
  await apiA.close();
  const file = path.join(work, 'gw.backup.json.gz');

  const whileRunning = await runCli(['backup', file], cliEnv(source), work);
  t.equal(whileRunning.code, 1, 'refused while the gateway runs');
  t.match(whileRunning.stderr, /stop the gateway first/);
  const caA = gwA.caPem;
  const serverCertA = readFileSync(path.join(source, 'certs', 'server.crt'), 'utf8');
  await gwA.stop();

  const backup = await runCli(['backup', file], cliEnv(source), work);
  t.equal(backup.code, 0, backup.stderr);
  t.match(backup.stdout, /1 devices, 2 API keys \(hashes only\), 1 device configs, 1 retained messages/);
  t.equal(statSync(file).mode & 0o777, 0o600, 'the backup file is 0600 (CA key and hashes inside)');
  const doc = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as BackupDocument;
  t.match(doc, { format: 'ways-edge-backup', version: 1, store_format: FORMAT_VERSION });
  t.same(Object.keys(doc.certs).sort(), ['ca.crt', 'ca.key', 'server.crt', 'server.key']);
  t.notOk(JSON.stringify(doc).includes(gwA.adminKey), 'no API key in the backup');
  t.notOk(JSON.stringify(doc).includes(device.mqtt_credentials.password), 'no device password in the backup');

  const restore = await runCli(['restore', file], cliEnv(restored), work);
  t.equal(restore.code, 0, restore.stderr);
  t.match(restore.stdout, /1 devices .*, 2 API keys/);
  t.match(restore.stdout, /admin\.key is not in a backup/, 'says that the admin key must come from the admin');
  t.match(restore.stdout, /not restored: usage history, the uplink outbox/);
  const again = await runCli(['restore', file], cliEnv(restored), work);
  t.equal(again.code, 1, 'a second restore over the data is refused');
  t.match(again.stderr, /already holds gateway data .*--force/);

  // The admin kept the key: put it back, start the restored gateway.
  writeFileSync(path.join(restored, 'admin.key'), gwA.adminKey + '\n', { mode: 0o600 });
  const gwB = await startGateway({ dataDir: restored, keep: true });
  t.teardown(() => gwB.stop());
  t.equal(gwB.caPem, caA, 'the same CA: clients keep trusting the gateway');
  t.equal(readFileSync(path.join(restored, 'certs', 'server.crt'), 'utf8'), serverCertA, 'and the same server certificate');
  t.equal(statSync(path.join(restored, 'certs', 'ca.key')).mode & 0o777, 0o600, 'the CA key is 0600 again');
  const apiB = apiClient(gwB.baseUrl, caA, gwA.adminKey);
  t.teardown(() => apiB.close());
  t.equal((await apiB.get('/v1/iot/quota')).status, 200, 'the admin key works');
  const bms = apiClient(gwB.baseUrl, caA, bmsKey);
  t.teardown(() => bms.close());
  t.equal((await bms.get('/v1/iot/quota')).status, 200, 'the second key works');
  t.equal((await bms.get('/v1/iot/keys')).status, 403, 'with its scopes');
  t.same((await apiB.get(`/v1/iot/devices/${device.device_id}/config`)).body, deviceConfig, 'the device config document');

  const client = await connectDevice(t, { port: gwB.gateway.mqttPort, caPem: caA }, device);
  t.ok(client.connected, 'the device connects with its old password');
  const got = collect(client);
  await client.subscribeAsync(`devices/${device.device_id}/config`, { qos: 1 });
  if (got.length === 0) await new Promise<void>((resolve) => client.once('message', () => resolve()));
  t.same(JSON.parse(got[0]?.payload.toString() ?? 'null'), deviceConfig, 'and gets its retained config on subscribe');
  t.equal(got[0]?.retain, true);
  await client.publishAsync(`devices/${device.device_id}/telemetry`, '{"t":20}', { qos: 1 });
  t.pass('and publishes (PUBACK)');
});

t.test('restore --force replaces the data of a stopped gateway; a damaged file is refused', async (t) => {
  const dir = tempDir();
  const work = tempDir('ways-edge-backups-');
  t.teardown(() => { removeDir(dir); removeDir(work); });
  const gw = await startGateway({ dataDir: dir, keep: true });
  const api = apiClient(gw.baseUrl, gw.caPem, gw.adminKey);
  const kept = await registerDevice(api, 'Kept');
  await gw.stop();
  const file = path.join(work, 'gw.json');
  t.equal((await runCli(['backup', file], cliEnv(dir), work)).code, 0);
  t.equal(JSON.parse(readFileSync(file, 'utf8')).format, 'ways-edge-backup', 'plain JSON without .gz');

  const gw2 = await startGateway({ dataDir: dir, keep: true });
  const api2 = apiClient(gw2.baseUrl, gw2.caPem, gw2.adminKey);
  const later = await registerDevice(api2, 'Registered after the backup');
  await api2.close();
  await api.close();
  await gw2.stop();

  const forced = await runCli(['restore', file, '--force'], cliEnv(dir), work);
  t.equal(forced.code, 0, forced.stderr);
  t.notMatch(forced.stdout, /admin\.key is not in a backup/, 'admin.key in the directory is a restored key: kept');
  const aside = readdirSync(dir).filter((n) => /^(db|certs)\.replaced-/.test(n)).map((n) => n.split('.')[0]).sort();
  t.same(aside, ['certs', 'db'], 'the replaced db/ and certs/ are moved aside, not deleted');
  t.match(forced.stdout, /the replaced db\/ was moved to .*db\.replaced-/);
  const gw3 = await startGateway({ dataDir: dir, keep: true });
  t.teardown(() => gw3.stop());
  const api3 = apiClient(gw3.baseUrl, gw3.caPem, gw3.adminKey);
  t.teardown(() => api3.close());
  t.equal((await api3.get(`/v1/iot/devices/${kept.device_id}`)).status, 200, 'the backed-up device is there');
  t.equal((await api3.get(`/v1/iot/devices/${later.device_id}`)).status, 404, 'the later one is gone: the data was replaced');

  // A damaged store (the reason one restores) is replaced as well.
  await gw3.stop();
  writeFileSync(path.join(dir, 'db', 'CURRENT'), 'garbage\n');
  const overDamaged = await runCli(['restore', file, '--force'], cliEnv(dir), work);
  t.equal(overDamaged.code, 0, overDamaged.stderr);
  const gw4 = await startGateway({ dataDir: dir, keep: true });
  t.teardown(() => gw4.stop());
  t.equal(gw4.gateway.registry.count, 1, 'a damaged store is replaced by the backup');

  writeFileSync(path.join(work, 'bad.json'), '{"format":"something else"}');
  const bad = await runCli(['restore', path.join(work, 'bad.json')], cliEnv(path.join(work, 'fresh')), work);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /not a usable ways-edge backup/);
  const none = await runCli(['backup', path.join(work, 'x.json')], cliEnv(path.join(work, 'missing')), work);
  t.equal(none.code, 1);
  t.match(none.stderr, /no gateway data in/);
});

t.test('backup - and restore - stream through stdout and stdin (the installed CLI runs as the service user)', async (t) => {
  const dir = tempDir();
  const fresh = tempDir();
  t.teardown(() => { removeDir(dir); removeDir(fresh); });
  const gw = await startGateway({ dataDir: dir, keep: true });
  const api = apiClient(gw.baseUrl, gw.caPem, gw.adminKey);
  const device = await registerDevice(api, 'Streamed');
  await api.close();
  await gw.stop();

  const res = await runCli(['backup', '-'], cliEnv(dir), dir);
  t.equal(res.code, 0, res.stderr);
  t.equal((JSON.parse(res.stdout) as BackupDocument).format, 'ways-edge-backup', 'the document on stdout');
  t.match(res.stderr, /backed up .* to stdout/, 'the report on stderr');
  const file = path.join(fresh, '..', `${path.basename(fresh)}.json`);
  writeFileSync(file, res.stdout);
  t.teardown(() => removeDir(file));
  const restored = await new Promise<number | null>((resolve) => {
    const child = spawn('/bin/sh', ['-c', `"${process.execPath}" "${MAIN_JS}" restore - < "${file}"`], { env: { PATH: process.env.PATH ?? '', ...cliEnv(fresh) }, stdio: 'ignore' });
    child.on('exit', resolve);
  });
  t.equal(restored, 0, 'restore - reads stdin');
  writeFileSync(path.join(fresh, 'admin.key'), gw.adminKey + '\n', { mode: 0o600 });
  const gw2 = await startGateway({ dataDir: fresh, keep: true });
  t.teardown(() => gw2.stop());
  t.ok(gw2.gateway.registry.get(device.device_id), 'the device is there');
});
