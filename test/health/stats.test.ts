import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { connectDevice } from './helpers/mqtt.js';
import type { PlatformStats } from '../../src/health/platform-stats.js';

t.test('/stats reports what the test did: devices, online, messages and rates over MQTT', async (t) => {
  const { gw, api } = await withGateway(t);
  const devices = [await registerDevice(api), await registerDevice(api), await registerDevice(api)];
  await api.patch(`/v1/iot/devices/${devices[2]!.device_id}`, { status: 'disabled' });

  const client = await connectDevice(gw.gateway.mqttPort, gw.caPem, devices[0]!);
  t.teardown(() => client.endAsync());
  const payload = Buffer.from(JSON.stringify({ temperature: 21.5 }));
  for (let i = 0; i < 10; i++) await client.publishAsync(`devices/${devices[0]!.device_id}/telemetry`, payload, { qos: 1 });

  const res = await api.get<PlatformStats>('/v1/iot/stats');
  t.equal(res.status, 200);
  const s = res.body;
  t.same(s.devices, { total: 3, online: 1, active: 2, disabled: 1 });
  t.equal(s.gateway.name, gw.config.gateway.name);
  t.type(s.gateway.version, 'string');
  t.ok(s.gateway.uptime_seconds >= 0);
  t.equal(s.messages.messages, 10, 'ten acknowledged messages this month');
  t.equal(s.messages.bytes, 10 * payload.length);
  t.equal(s.messages.since_start?.messages_in, 10);
  t.equal(s.messages.since_start?.bytes_in, 10 * payload.length);
  t.ok((s.messages.rates?.in_per_sec_1m ?? 0) > 0, `1-minute rate is positive (${s.messages.rates?.in_per_sec_1m}/s)`);
  t.ok((s.messages.rates?.in_per_sec_15m ?? 0) > 0, '15-minute rate is positive');
  t.ok((s.messages.rates?.bytes_in_per_sec_1m ?? 0) > 0, 'byte rate is positive');
  t.equal(s.uplink.state, 'disabled', 'no cloud.url: the uplink is disabled, not made up');
  t.same(s.admission, { accepting: true, reason: null });
  t.equal(s.certificate?.state, 'ok');
  t.ok((s.certificate?.expires_in_days ?? 0) > 300, 'the generated certificate is good for a long time');
  t.same(s.warnings.filter((w) => w.code.startsWith('certificate')), []);

  const host = s.host;
  t.ok(host, 'a host sample exists from the start');
  if (!host) return;
  t.ok(host.memory.total_bytes > 0 && host.memory.available_bytes > 0);
  t.ok(host.disk && host.disk.total_bytes > 0 && host.disk.free_bytes > 0, 'disk figures of the data directory');
  t.equal(host.disk?.path, gw.dataDir);
  t.ok(host.cpu.cores >= 1);
  t.type(host.cpu.load_1m, 'number');
  t.ok(host.temperature_celsius === null || typeof host.temperature_celsius === 'number');
  t.ok(host.throttling === null || typeof host.throttling.raw === 'string', 'throttling is null off a Pi, never faked');
  t.ok([true, false, null].includes(host.clock_synchronized));
  t.ok(Array.isArray(host.network.up));
  t.ok(host.process.rss_bytes > 0);
});

t.test('the health summary for the uplink is small and agrees with /stats', async (t) => {
  const { gw, api } = await withGateway(t);
  await registerDevice(api);
  const summary = gw.gateway.health.summary();
  const stats = (await api.get<PlatformStats>('/v1/iot/stats')).body;
  t.equal(summary.name, stats.gateway.name);
  t.equal(summary.version, stats.gateway.version);
  t.same(summary.devices, { online: stats.devices.online, total: stats.devices.total });
  t.equal(summary.accepting_telemetry, true);
  t.equal(summary.disk_free_bytes, stats.host?.disk?.free_bytes ?? null);
  t.ok(JSON.stringify(summary).length < 1024, `the summary is small (${JSON.stringify(summary).length} bytes)`);
});
