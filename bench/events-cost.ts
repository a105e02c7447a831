/**
 * What the dashboard's event stream costs the gateway: the gateway process's CPU time (from
 * /proc/<pid>/stat) over 30 s with no stream open, then with 10 streams open (one of them watching a
 * device page, so device.rate is computed too), then with none again to show the noise. The same
 * light device traffic runs throughout, so the difference is the streams' own cost. Usage:
 *   npm run build && node dist/bench/events-cost.js [--seconds 30] [--streams 10] [--rounds 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { spawnGateway } from '../test/helpers/spawn.js';
import { apiClient } from '../test/helpers/http.js';
import { registerDevice, type RegisteredDevice } from '../test/helpers/devices.js';
import { openEvents, type SseStream } from '../test/web/sse-client.js';
import { cpuSeconds } from './lib/proc.js';
import { numberArg } from './lib/script-args.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const seconds = numberArg('seconds', 30);
  const streamCount = numberArg('streams', 10);
  const rounds = numberArg('rounds', 2);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ways-edge-bench-events-'));
  // Host health sampling (every 30 s, ~100 ms of CPU each) would be most of the noise: sampled yearly here.
  const gw = await spawnGateway(dataDir, { WAYS_EDGE_LOG_LEVEL: 'info', WAYS_EDGE_JOBS_HEALTH_SAMPLE: '0 0 1 1 *' });
  const pid = gw.child.pid as number;
  const baseUrl = `https://127.0.0.1:${gw.apiPort}`;
  const api = apiClient(baseUrl, gw.caPem(), gw.adminKey());
  const clients: MqttClient[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    // Background: 20 devices, 5 of them sending 2 messages a second each.
    const devices: RegisteredDevice[] = [];
    for (let i = 0; i < 20; i++) devices.push(await registerDevice(api, `Bench ${i}`));
    for (const d of devices.slice(0, 5)) {
      const c = await mqtt.connectAsync({ host: '127.0.0.1', port: gw.mqttPort, protocol: 'mqtts', ca: gw.caPem(), servername: 'localhost', username: d.device_id, password: d.mqtt_credentials.password, clientId: d.device_id, reconnectPeriod: 0 });
      c.on('error', () => undefined);
      clients.push(c);
    }
    timer = setInterval(() => { for (const [i, c] of clients.entries()) c.publish(`devices/${devices[i]?.device_id}/telemetry`, '{"t":21.5}', { qos: 1 }); }, 500);
    await sleep(3_000);

    const phase = async (label: string, open: number): Promise<{ label: string; cpuMs: number; bytes: number }> => {
      const streams: SseStream[] = [];
      for (let i = 0; i < open; i++) streams.push(await openEvents(baseUrl, gw.caPem(), gw.adminKey(), i === 0 ? `?device_id=${devices[0]?.device_id}` : ''));
      if (streams.some((s) => s.status !== 200)) throw new Error('a stream was refused');
      await sleep(1_000);
      const before = cpuSeconds(pid);
      const eventsBefore = streams.reduce((n, s) => n + JSON.stringify(s.events).length, 0);
      await sleep(seconds * 1000);
      const cpuMs = (cpuSeconds(pid) - before) * 1000;
      const bytes = streams.reduce((n, s) => n + JSON.stringify(s.events).length, 0) - eventsBefore;
      for (const s of streams) await s.close();
      await sleep(1_000);
      return { label, cpuMs, bytes };
    };
    // Alternating phases, so that drift (JIT warm-up, the 30 s health sample) falls on both sides alike.
    await sleep(10_000);
    const rows = [];
    for (let r = 0; r < rounds; r++) rows.push(await phase('no stream', 0), await phase(`${streamCount} streams`, streamCount));
    rows.push(await phase('no stream', 0));
    console.log(`gateway CPU per ${seconds} s phase, 5 devices sending 2 msg/s each, health sampling off (pid ${pid}, /proc/<pid>/stat):`);
    for (const r of rows) console.log(`  ${r.label.padEnd(12)} ${r.cpuMs.toFixed(0).padStart(6)} ms CPU  (${((r.cpuMs / (seconds * 1000)) * 100).toFixed(2)} % of one core)${r.bytes ? `, ~${Math.round(r.bytes / streamCount / seconds)} B/s of event data per stream` : ''}`);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const idle = mean(rows.filter((r) => r.bytes === 0).map((r) => r.cpuMs));
    const busy = mean(rows.filter((r) => r.bytes > 0).map((r) => r.cpuMs));
    const extra = busy - idle;
    console.log(`  mean: ${idle.toFixed(0)} ms without streams, ${busy.toFixed(0)} ms with ${streamCount}: the streams cost ${extra.toFixed(0)} ms CPU per ${seconds} s = ${((extra / (seconds * 1000)) * 100).toFixed(2)} % of one core (/proc counts in 10 ms ticks)`);
  } finally {
    if (timer) clearInterval(timer);
    for (const c of clients) await c.endAsync(true);
    await api.close();
    await gw.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
