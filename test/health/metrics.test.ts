import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';
import { connectDevice } from './helpers/mqtt.js';
import type { PlatformStats } from '../../src/health/platform-stats.js';

const TOKEN = 'metrics-token-for-the-test-0123456789';

t.test('/metrics is Prometheus text that matches /stats', async (t) => {
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_HEALTH_METRICS_TOKEN: TOKEN } });
  const a = await registerDevice(api);
  await registerDevice(api);
  const client = await connectDevice(gw.gateway.mqttPort, gw.caPem, a);
  t.teardown(() => client.endAsync());
  for (let i = 0; i < 5; i++) await client.publishAsync(`devices/${a.device_id}/telemetry`, Buffer.from(`{"n":${i}}`), { qos: 1 });

  const stats = (await api.get<PlatformStats>('/v1/iot/stats')).body;
  const res = await api.get('/metrics');
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const m = parsePrometheus(res.text);

  t.equal(sampleValue(m, 'ways_edge_devices'), stats.devices.total);
  t.equal(sampleValue(m, 'ways_edge_devices'), 2);
  t.equal(sampleValue(m, 'ways_edge_devices_online'), stats.devices.online);
  t.equal(sampleValue(m, 'ways_edge_devices_online'), 1);
  t.equal(sampleValue(m, 'ways_edge_messages_received_total'), stats.messages.since_start?.messages_in);
  t.equal(sampleValue(m, 'ways_edge_messages_received_total'), 5);
  t.equal(sampleValue(m, 'ways_edge_bytes_received_total'), stats.messages.since_start?.bytes_in);
  t.equal(sampleValue(m, 'ways_edge_quota_messages_used'), stats.messages.messages);
  t.equal(sampleValue(m, 'ways_edge_quota_messages_limit'), gw.config.quota.max_messages_per_month);
  t.equal(sampleValue(m, 'ways_edge_disk_free_bytes') !== undefined, true, 'disk free is reported');
  t.equal(sampleValue(m, 'ways_edge_accepting_telemetry'), 1);
  t.equal(sampleValue(m, 'ways_edge_uplink_connected'), 0, 'no uplink configured: not connected');
  t.equal(sampleValue(m, 'ways_edge_outbox_entries'), undefined, 'no outbox: no made-up backlog');
  t.equal(sampleValue(m, 'ways_edge_info', { name: gw.config.gateway.name, version: stats.gateway.version }), 1);
  const expiry = sampleValue(m, 'ways_edge_certificate_expiry_seconds') ?? 0;
  t.ok(Math.abs(expiry - (stats.certificate?.expires_in_seconds ?? 0)) <= 2, 'certificate expiry agrees with /stats');
  t.ok((sampleValue(m, 'ways_edge_store_commits_total') ?? 0) >= 1, 'the group commit wrote the acknowledged messages');
  t.equal(sampleValue(m, 'ways_edge_cpu_temperature_celsius'), stats.host?.temperature_celsius ?? undefined, 'temperature only where there is a sensor');
  t.equal(sampleValue(m, 'ways_edge_memory_total_bytes'), stats.host?.memory.total_bytes);
  t.ok((sampleValue(m, 'ways_edge_job_runs_total', { job: 'quota_reset' }) ?? 0) >= 1, 'the quota period was reconciled at start');
  t.ok((sampleValue(m, 'ways_edge_health_samples_total') ?? 0) >= 1);

  t.equal(m.types.get('ways_edge_messages_received_total'), 'counter');
  t.equal(m.types.get('ways_edge_devices'), 'gauge');
  t.ok(sampleValue(m, 'process_cpu_seconds_total') !== undefined, "prom-client's process metrics are included");
  t.ok(m.samples.some((s) => s.name === 'nodejs_heap_size_used_bytes'));
  const names = new Set(m.samples.map((s) => s.name));
  for (const name of names) t.match(name, /^[a-z_:][a-z0-9_:]*$/, `${name} is a conventional metric name`);
});

t.test('/metrics needs an API key with read scope or the metrics token', async (t) => {
  const { api } = await withGateway(t, { env: { WAYS_EDGE_HEALTH_METRICS_TOKEN: TOKEN, WAYS_EDGE_API_RATE_LIMIT_PER_MINUTE: '60', WAYS_EDGE_API_RATE_LIMIT_BURST: '0' } });
  const none = await api.get<{ error: { code: string } }>('/metrics', { key: null });
  t.equal(none.status, 401);
  t.equal(none.body.error.code, 'unauthorized');
  t.equal((await api.get('/metrics', { key: 'wayscloud_iot_prod_notarealkey0000000000000000000000' })).status, 401);
  t.equal((await api.get('/metrics', { key: `${TOKEN}x` })).status, 401, 'a token that differs by a character');

  const reader = (await api.post<{ key: string }>('/v1/iot/keys', { name: 'prometheus', scopes: ['read'] })).body.key;
  const mqttOnly = (await api.post<{ key: string }>('/v1/iot/keys', { name: 'nodered', scopes: ['mqtt'] })).body.key;
  const withRead = await api.get('/metrics', { key: reader });
  t.equal(withRead.status, 200);
  t.ok(withRead.headers['x-ratelimit-limit'], 'API keys are rate-limited on /metrics too');
  t.equal((await api.get('/metrics', { key: mqttOnly })).status, 403, 'an mqtt-only key cannot read metrics');

  const withToken = await api.get('/metrics', { key: TOKEN });
  t.equal(withToken.status, 200);
  t.equal(withToken.headers['x-ratelimit-limit'], undefined, 'the metrics token is not rate-limited');
  t.ok(parsePrometheus(withToken.text).samples.length > 20);
  t.equal((await api.get('/v1/iot/stats', { key: TOKEN })).status, 401, 'the metrics token opens /metrics only');

  // Two gateways in one process each have their own registry.
  const other = await withGateway(t);
  await registerDevice(other.api);
  const m1 = parsePrometheus((await api.get('/metrics')).text);
  const m2 = parsePrometheus((await other.api.get('/metrics')).text);
  t.equal(sampleValue(m1, 'ways_edge_devices'), 0);
  t.equal(sampleValue(m2, 'ways_edge_devices'), 1);
});

t.test('with an uplink configured, /metrics carries its backlog as /stats does', async (t) => {
  // Nothing listens on the cloud address: the uplink keeps trying while telemetry waits in the outbox.
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_CLOUD_URL: 'mqtt://127.0.0.1:9', WAYS_EDGE_CLOUD_USERNAME: 'iot_dev_gateway00001', WAYS_EDGE_CLOUD_PASSWORD: 'x' } });
  const device = await registerDevice(api);
  const client = await connectDevice(gw.gateway.mqttPort, gw.caPem, device);
  t.teardown(() => client.endAsync());
  for (let i = 0; i < 3; i++) await client.publishAsync(`devices/${device.device_id}/telemetry`, Buffer.from(`{"n":${i}}`), { qos: 1 });
  const stats = (await api.get<PlatformStats>('/v1/iot/stats')).body;
  const m = parsePrometheus((await api.get('/metrics')).text);
  const backlog = stats.uplink.backlog as { count: number; bytes: number };
  t.equal(backlog.count, 3, 'three messages wait for the cloud');
  t.equal(sampleValue(m, 'ways_edge_outbox_entries'), backlog.count);
  t.equal(sampleValue(m, 'ways_edge_outbox_bytes'), backlog.bytes);
  t.equal(sampleValue(m, 'ways_edge_outbox_dropped_total'), 0);
  t.equal(sampleValue(m, 'ways_edge_uplink_connected'), 0);
});
