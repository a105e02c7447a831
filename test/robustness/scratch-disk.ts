import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync, statfsSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { spawnGateway } from '../helpers/spawn.js';
import { tempDir, removeDir } from '../helpers/gateway.js';
import { apiClient } from '../helpers/http.js';
import { registerDevice } from '../helpers/devices.js';
import { deviceClientOptions } from './helpers/heartbeat.js';

const dir = tempDir('ways-edge-tmpfs-');
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', dir]);
try {
  const gw = await spawnGateway(dir, { WAYS_EDGE_HEALTH_DISK_MIN_FREE_BYTES: '0', WAYS_EDGE_MQTT_RATE_LIMIT: '0' });
  const target = { port: gw.mqttPort, caPem: gw.caPem() };
  const api = apiClient(`https://127.0.0.1:${gw.apiPort}`, target.caPem, gw.adminKey());
  const d = await registerDevice(api);
  const free = () => { const s = statfsSync(dir); return s.bavail * s.bsize; };
  const filler = path.join(dir, 'filler');
  writeFileSync(filler, Buffer.alloc(free() - 2 * 1024 * 1024));
  console.log('free after filler', free());
  let acked = 0, failed = 0, n = 0;
  const payload = Buffer.alloc(8192, 0x41);
  const t0 = performance.now();
  while (performance.now() - t0 < 8000 && failed < 20) {
    const c = await mqtt.connectAsync(deviceClientOptions(target, d)).catch((e) => { console.log('connect failed', e.message); return undefined; });
    if (!c) { failed++; continue; }
    c.on('error', () => undefined);
    try {
      for (;;) { await Promise.race([c.publishAsync(`devices/${d.device_id}/telemetry`, payload, { qos: 1 }), new Promise((_, rej) => c.once('close', () => rej(new Error('closed'))))]); acked++; n++; }
    } catch (e) { failed++; console.log('publish failed after', acked, (e as Error).message, 'free', free()); }
    await c.endAsync(true);
  }
  console.log('acked', acked, 'failed', failed, 'exit', gw.child.exitCode);
  console.log(gw.logs.filter((l) => (l.level as string) !== 'info' && l.level !== 30).slice(0, 8).map((l) => JSON.stringify(l).slice(0, 300)).join('\n'));
  rmSync(filler);
  console.log('free after rm', free());
  const c = await mqtt.connectAsync(deviceClientOptions(target, d));
  c.on('error', () => undefined);
  let after = 0;
  try { for (let i = 0; i < 50; i++) { await Promise.race([c.publishAsync(`devices/${d.device_id}/telemetry`, payload, { qos: 1 }), new Promise((_, rej) => c.once('close', () => rej(new Error('closed'))))]); after++; } } catch (e) { console.log('after: failed', (e as Error).message); }
  console.log('after recovery acked', after);
  const usage = await api.get<{ totals: { messages_in: number; rejected: number } }>(`/v1/iot/usage?device_id=${d.device_id}`);
  console.log('usage', usage.body.totals, 'acked total', acked + after);
  await c.endAsync(true);
  await api.close();
  console.log('stop', await gw.stop());
  const gw2 = await spawnGateway(dir, {});
  const api2 = apiClient(`https://127.0.0.1:${gw2.apiPort}`, gw2.caPem(), gw2.adminKey());
  console.log('after restart usage', (await api2.get<{ totals: unknown }>(`/v1/iot/usage?device_id=${d.device_id}`)).body.totals);
  await api2.close(); await gw2.stop();
} finally {
  execFileSync('umount', [dir]);
  removeDir(dir);
}
