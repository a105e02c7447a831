import t from 'tap';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startGateway, tempDir, removeDir } from '../helpers/gateway.js';
import { apiClient } from '../helpers/http.js';
import { registerDevice } from '../helpers/devices.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';
import { connectDevice } from './helpers/mqtt.js';
import type { PlatformStats } from '../../src/health/platform-stats.js';
import type { DiskUsage } from '../../src/health/types.js';
import { dayOf } from '../../src/metering/usage.js';

const MiB = 1024 * 1024;
/** Within twice the floor from the start (8 MiB disk, 4 MiB floor), so the guard checks every second. */
const FS_SIZE = '8m';
const FLOOR = 4 * MiB;

/** Mounts a size-limited tmpfs, or says why it cannot (then the test is skipped with that reason). */
function mountTmpfs(dir: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FS_SIZE},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs here (${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}); the low-disk floor needs a real small filesystem`;
  }
}

t.test('below health.disk_min_free_bytes the gateway refuses new telemetry and recovers by itself', async (t) => {
  const dir = tempDir('ways-edge-tmpfs-');
  const cannot = mountTmpfs(dir);
  if (cannot) {
    removeDir(dir);
    t.comment(cannot);
    t.plan(0, cannot);
    return;
  }
  const gw = await startGateway({ dataDir: dir, env: { WAYS_EDGE_HEALTH_DISK_MIN_FREE_BYTES: String(FLOOR) } });
  const api = apiClient(gw.baseUrl, gw.caPem, gw.adminKey);
  t.teardown(async () => {
    await api.close();
    await gw.stop();
    execFileSync('umount', [dir]);
    removeDir(dir);
  });
  const health = gw.gateway.health;
  const device = await registerDevice(api);
  const topic = `devices/${device.device_id}/telemetry`;
  let client = await connectDevice(gw.gateway.mqttPort, gw.caPem, device);
  await client.publishAsync(topic, Buffer.from('{"before":1}'), { qos: 1 });
  t.equal(health.diskLow, false);
  t.ok(gw.gateway.admission.accepting());

  // Fill the filesystem until less than the floor is free.
  const filler = path.join(dir, 'filler.bin');
  const free = health.host?.disk?.free_bytes ?? 0;
  t.ok(free > FLOOR, `starts above the floor (${(free / MiB).toFixed(1)} MiB free)`);
  const lowEvent = new Promise<DiskUsage>((resolve) => { const off = health.events.on('disk_low', (u) => { off(); resolve(u); }); });
  writeFileSync(filler, Buffer.alloc(free - FLOOR + MiB));
  const usage = await lowEvent;
  t.ok(usage.free_bytes < FLOOR, `the guard saw ${(usage.free_bytes / MiB).toFixed(1)} MiB free`);
  t.equal(health.diskLow, true);
  t.equal(gw.gateway.admission.accepting(), false);
  t.equal(gw.gateway.admission.reason, 'disk_low');

  const stats = (await api.get<PlatformStats>('/v1/iot/stats')).body;
  t.same(stats.admission, { accepting: false, reason: 'disk_low' });
  t.ok(stats.warnings.some((w) => w.code === 'disk_low'), 'a disk_low warning in /stats');
  t.equal(sampleValue(parsePrometheus((await api.get('/metrics')).text), 'ways_edge_accepting_telemetry'), 0);
  t.equal((await api.get('/v1/iot/devices')).status, 200, 'the API keeps serving');

  // A QoS 1 publish is refused: aedes closes an MQTT 3.1.1 connection whose publish is not authorized.
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  const outcome = client.publishAsync(topic, Buffer.from('{"while_low":1}'), { qos: 1 }).then(() => 'acknowledged', () => 'refused');
  await closed;
  // Ending the client fails the publish still waiting for its PUBACK (mqtt.js keeps it for a reconnect otherwise).
  await client.endAsync(true);
  t.equal(await outcome, 'refused', 'no PUBACK while the disk is low: the connection was closed');

  const okEvent = new Promise<DiskUsage>((resolve) => { const off = health.events.on('disk_ok', (u) => { off(); resolve(u); }); });
  rmSync(filler);
  const back = await okEvent;
  t.ok(back.free_bytes >= FLOOR, 'space is back');
  t.equal(health.diskLow, false);
  t.equal(gw.gateway.admission.accepting(), true, 'taking telemetry again, by itself');
  t.notOk((await api.get<PlatformStats>('/v1/iot/stats')).body.warnings.some((w) => w.code === 'disk_low'));

  client = await connectDevice(gw.gateway.mqttPort, gw.caPem, device);
  await client.publishAsync(topic, Buffer.from('{"after":1}'), { qos: 1 });
  await client.endAsync();
  const today = dayOf(new Date(), gw.config.gateway.timezone);
  const usageRows = (await api.get<{ totals: Record<string, number> }>(`/v1/iot/usage?start_date=${today}&end_date=${today}&device_id=${device.device_id}`)).body;
  t.equal(usageRows.totals.messages_in, 2, 'the messages before and after were taken');
  t.equal(usageRows.totals.rejected, 1, 'the one sent while low was counted as rejected');
});
