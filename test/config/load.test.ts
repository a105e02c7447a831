import t from 'tap';
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { isGatewayError } from '../../src/errors.js';
import { tempDir, removeDir } from '../helpers/gateway.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (isGatewayError(err) && err.code === 'config_invalid') return (err.details ?? []).map((d) => `${d.field}: ${d.reason}`);
    throw err;
  }
  throw new Error('expected the config to be refused');
}

t.test('the shipped gateway.yaml is valid and equals the built-in defaults', async (t) => {
  const fromFile = loadConfig({ file: path.join(repoRoot, 'gateway.yaml'), env: {} });
  const builtIn = loadConfig({ env: {}, cwd: tempDir() });
  t.same({ ...fromFile, config_file: '', data_dir: '' }, { ...builtIn, config_file: '', data_dir: '' });
  t.equal(fromFile.api.port, 8443);
  t.equal(fromFile.mqtt.port, 8883);
  t.equal(fromFile.mqtt.plain_enabled, false, 'plain MQTT is off by default');
  t.equal(fromFile.api.tls, true, 'the API is HTTPS by default');
  t.equal(fromFile.data_dir, path.join(repoRoot, 'data'), 'data_dir is relative to the config file');
});

t.test('a bad file lists every problem by its path', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, 'api:\n  port: 70000\n  prot: 1\nmqtt:\n  rate_limit: -1\nlog:\n  level: loud\njobs:\n  retention: "not cron"\n');
  const problems = problemsOf(() => loadConfig({ file, env: {} }));
  t.ok(problems.includes('api.port: must be 0..65535'), 'range named with its path');
  t.ok(problems.includes('api.prot: unknown setting'), 'typo caught');
  t.ok(problems.some((p) => p.startsWith('mqtt.rate_limit: must be >= 0')), 'negative rate refused');
  t.ok(problems.some((p) => p.startsWith('log.level: must be one of')), 'enum listed');
  t.equal(problems.length, 4, `all four schema problems at once: ${problems.join('; ')}`);
  // The cron check runs once the schema passes.
  writeFileSync(file, 'jobs:\n  retention: "not cron"\n');
  t.same(problemsOf(() => loadConfig({ file, env: {} })), ['jobs.retention: must be a valid cron expression']);
});

t.test('broken YAML is refused with its line', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, 'api:\n  port: [1\n');
  const problems = problemsOf(() => loadConfig({ file, env: {} }));
  t.equal(problems.length, 1);
  t.match(problems[0], /^yaml: /);
});

t.test('environment overrides win over the file and are validated by path', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, 'api:\n  port: 9000\n');
  const cfg = loadConfig({ file, env: { WAYS_EDGE_API_PORT: '9443', WAYS_EDGE_MQTT_RATE_LIMIT: '0', WAYS_EDGE_CLOUD_URL: '', WAYS_EDGE_CLOUD_CA: 'ca.pem', WAYS_EDGE_MQTT_PLAIN_ENABLED: 'true', WAYS_EDGE_DATA_DIR: 'rel' }, cwd: '/srv' });
  t.equal(cfg.api.port, 9443);
  t.equal(cfg.mqtt.rate_limit, 0);
  t.equal(cfg.cloud.url, '');
  t.equal(cfg.cloud.ca, '/srv/ca.pem', 'WAYS_EDGE_CLOUD_CA is relative to the working directory');
  t.equal(cfg.mqtt.plain_enabled, true);
  t.equal(cfg.data_dir, '/srv/rel');
  t.same(problemsOf(() => loadConfig({ file, env: { WAYS_EDGE_API_PORT: 'eighty' } })), ['api.port: must be integer']);
  t.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.api), 'the config is frozen');
});

t.test('a cloud.url the uplink could not use is refused when the config is loaded, not when the uplink starts', async (t) => {
  const cwd = tempDir();
  t.teardown(() => removeDir(cwd));
  t.same(problemsOf(() => loadConfig({ env: { WAYS_EDGE_CLOUD_URL: 'mqtt.example.com:8883' }, cwd })), ['cloud.url: unsupported scheme mqtt.example.com: (use one of mqtt: mqtts: tcp: tls: ssl: ws: wss:)']);
  t.same(problemsOf(() => loadConfig({ env: { WAYS_EDGE_CLOUD_URL: 'https://cloud.example.com' }, cwd })), ['cloud.url: unsupported scheme https: (use one of mqtt: mqtts: tcp: tls: ssl: ws: wss:)']);
  t.same(problemsOf(() => loadConfig({ env: { WAYS_EDGE_CLOUD_URL: 'not a url' }, cwd })), ['cloud.url: must be a URL such as mqtts://mqtt.example.com:8883']);
  t.equal(loadConfig({ env: { WAYS_EDGE_CLOUD_URL: 'mqtts://mqtt.example.com:8883' }, cwd }).cloud.url, 'mqtts://mqtt.example.com:8883');
  t.equal(loadConfig({ env: { WAYS_EDGE_CLOUD_URL: '' }, cwd }).cloud.url, '', 'empty: no uplink');
});

t.test('WAYS_EDGE_CONFIG names the file; a missing one is an error', async (t) => {
  const problems = problemsOf(() => loadConfig({ env: { WAYS_EDGE_CONFIG: '/nonexistent/gateway.yaml' } }));
  t.match(problems[0], /file not found/);
  t.ok(readFileSync(path.join(repoRoot, 'gateway.yaml'), 'utf8').includes('WAYS_EDGE_A_B_C'), 'gateway.yaml documents the override naming');
});
