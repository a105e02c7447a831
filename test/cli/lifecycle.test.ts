import t from 'tap';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnGateway, runCli } from '../helpers/spawn.js';
import { tempDir, removeDir } from '../helpers/gateway.js';
import { apiClient } from '../helpers/http.js';

const baseEnv = (dataDir: string): Record<string, string> => ({
  WAYS_EDGE_DATA_DIR: dataDir, WAYS_EDGE_API_HOST: '127.0.0.1', WAYS_EDGE_API_PORT: '0', WAYS_EDGE_MQTT_HOST: '127.0.0.1', WAYS_EDGE_MQTT_PORT: '0', WAYS_EDGE_CLOUD_URL: '',
});

t.test('first start makes the CA, the certificate and one admin key; a restart reuses them and keeps devices', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const first = await spawnGateway(dir);
  const key = first.adminKey();
  t.match(key, /^wayscloud_iot_prod_[0-9A-Za-z]{32,}$/);
  t.equal(statSync(path.join(dir, 'admin.key')).mode & 0o777, 0o600, 'admin.key is 0600');
  t.equal(statSync(path.join(dir, 'certs', 'ca.key')).mode & 0o777, 0o600, 'CA key is 0600');
  t.ok(existsSync(path.join(dir, 'certs', 'ca.crt')));
  t.ok(first.stderr().includes(key), 'the key is shown once on the console');
  t.notOk(first.logs.some((l) => JSON.stringify(l).includes(key)), 'and never in the JSON log');
  const ca = first.caPem();

  const api = apiClient(`https://127.0.0.1:${first.apiPort}`, ca, key);
  const created = await api.post<{ device_id: string }>('/v1/iot/devices', { name: 'Kept', type: 'sensor' });
  t.equal(created.status, 201);
  await api.close();
  t.equal(await first.stop(), 0, 'SIGTERM: clean stop, exit 0');
  t.ok(first.logs.some((l) => l.event === 'stopped'), 'logged the stop');

  const second = await spawnGateway(dir);
  t.teardown(() => second.stop());
  t.equal(second.adminKey(), key, 'admin key not re-created');
  t.notOk(second.stderr().includes('wayscloud_iot_prod_'), 'no new key shown');
  t.equal(second.caPem(), ca, 'same CA');
  const api2 = apiClient(`https://127.0.0.1:${second.apiPort}`, ca, key);
  const got = await api2.get<{ name: string }>(`/v1/iot/devices/${created.body.device_id}`);
  t.equal(got.status, 200, 'the device survived the restart');
  t.equal(got.body.name, 'Kept');
  await api2.close();

  // A second gateway on the same data directory is refused with a clear message.
  const clash = await runCli(['start'], { ...baseEnv(dir) }, dir);
  t.equal(clash.code, 1, 'second instance exits non-zero');
  t.match(clash.stderr, /in use by another ways-edge process/);
  t.notMatch(clash.stderr, /\n\s+at /, 'no stack trace');
});

t.test('a bad config stops the start, lists every problem and touches nothing', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const dataDir = path.join(dir, 'data');
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, 'api:\n  port: 99999\nmqtt:\n  port: -1\n');
  const res = await runCli(['start', '--config', file], { WAYS_EDGE_DATA_DIR: dataDir }, dir);
  t.equal(res.code, 2);
  t.match(res.stderr, /api\.port: must be 0\.\.65535/);
  t.match(res.stderr, /mqtt\.port: must be 0\.\.65535/);
  t.notOk(existsSync(dataDir), 'the data directory was not created');
  const check = await runCli(['check-config', '--config', file], {}, dir);
  t.equal(check.code, 2);
});

t.test('--help lists the commands; an unknown command fails', async (t) => {
  const help = await runCli(['--help'], {}, tempDir());
  t.equal(help.code, 0);
  for (const word of ['start', 'keys create', 'keys list', 'keys revoke', 'backup FILE', 'restore FILE', 'SIGHUP']) t.ok(help.stdout.includes(word), `help mentions ${word}`);
  const bad = await runCli(['frobnicate'], {}, tempDir());
  t.equal(bad.code, 2);
});

t.test('ways-edge keys: through the running gateway, and on the store when it is stopped', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const gw = await spawnGateway(dir);
  const env = { ...baseEnv(dir), WAYS_EDGE_API_PORT: String(gw.apiPort) };
  const created = await runCli(['keys', 'create', 'bms', '--scopes', 'read,mqtt'], env, dir);
  t.equal(created.code, 0, created.stderr);
  const key = /wayscloud_iot_prod_[0-9A-Za-z]+/.exec(created.stdout)?.[0] ?? '';
  t.ok(key, 'the new key is printed once');
  const readApi = apiClient(`https://127.0.0.1:${gw.apiPort}`, gw.caPem(), key);
  t.equal((await readApi.get('/v1/iot/quota')).status, 200, 'the new key works at once');
  const list = await runCli(['keys', 'list'], env, dir);
  t.match(list.stdout, /bms\tread,mqtt/);
  t.notOk(list.stdout.includes(key), 'list never shows keys');
  t.equal((await runCli(['keys', 'revoke', 'bms'], env, dir)).code, 0);
  t.equal((await readApi.get('/v1/iot/quota')).status, 401, 'revoked at once');
  await readApi.close();
  t.equal(await gw.stop(), 0);

  const offline = await runCli(['keys', 'create', 'ops', '--scopes', 'admin'], env, dir);
  t.equal(offline.code, 0, offline.stderr);
  const offlineList = await runCli(['keys', 'list'], env, dir);
  t.match(offlineList.stdout, /ops\tadmin/);
  t.match(offlineList.stdout, /admin\tadmin/);
  t.ok(readFileSync(path.join(dir, 'admin.key'), 'utf8').startsWith('wayscloud_iot_prod_'));
});
