/**
 * Uplink bench (`node dist/bench/uplink-drain.js [messages]`):
 *
 *  1. Backlog drain: 200,000 typical JSON telemetry messages from 20 devices are queued in the outbox
 *     while the cloud is down; then the cloud comes up and we time the drain, from the gateway's
 *     connect to the last PUBACK (entries deleted), with the default uplink settings (batches of 500,
 *     gzip, 8 in flight, 100 publishes/s — the cloud's per-device limit). Target: ≥ 20,000 msg/s.
 *  2. Bytes on the wire per message (what the cloud broker reads from the socket, MQTT framing
 *     included): batched + gzip, batched without gzip, and mirror mode (one publish per message).
 *
 * The cloud is an aedes broker in a child process (bench/uplink-cloud.ts) that decodes every batch,
 * so its CPU is not counted as the gateway's. Messages are staged into the outbox the way the broker
 * does it (stage + synced group commit), not through MQTT: this measures the uplink, not the broker.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { Gateway } from '../src/gateway.js';
import type { Outbox } from '../src/uplink/outbox.js';

const DRAIN_MESSAGES = Number(process.argv[2] ?? 200_000);
const WIRE_MESSAGES = 20_000;
const DEVICES = 20;
const STAGE_CHUNK = 1000;
const CLOUD_JS = path.resolve(import.meta.dirname, 'uplink-cloud.js');

/** ~120 bytes of typical JSON telemetry, values varying like a real sensor's. */
function telemetry(i: number, at: number): Buffer {
  const t = (22 + Math.sin(i / 50) * 3).toFixed(2);
  const h = (60 + Math.cos(i / 70) * 10).toFixed(1);
  return Buffer.from(`{"temperature":${t},"humidity":${h},"pressure":${(1013 + (i % 7) * 0.1).toFixed(1)},"battery":3.71,"rssi":${-60 - (i % 15)},"timestamp":"${new Date(at).toISOString()}"}`);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Cloud {
  child: ChildProcess;
  connected: Promise<void>;
  last: { messages: number; publishes: number; bytes: number };
  /** Resolves once the cloud has reported `n` messages (its IPC report can trail the gateway's PUBACK). */
  received(n: number): Promise<void>;
}

async function startCloud(port: number): Promise<Cloud> {
  const child = fork(CLOUD_JS, [String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const cloud: Cloud = {
    child, connected: Promise.resolve(), last: { messages: 0, publishes: 0, bytes: 0 },
    received: (n) => (cloud.last.messages >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
  cloud.connected = new Promise((resolve) => child.on('message', (m: { type: string; messages?: number; publishes?: number; bytes?: number }) => {
    if (m.type === 'connected') resolve();
    if (m.type !== 'progress') return;
    cloud.last = { messages: m.messages ?? 0, publishes: m.publishes ?? 0, bytes: m.bytes ?? 0 };
    for (const w of [...waiters]) if (cloud.last.messages >= w.n) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  }));
  await new Promise<void>((resolve) => child.on('message', (m: { type: string }) => { if (m.type === 'listening') resolve(); }));
  return cloud;
}

function outboxEmpty(outbox: Outbox): Promise<void> {
  if (outbox.count === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const off = outbox.events.on('removed', () => { if (outbox.count === 0) { off(); resolve(); } });
  });
}

interface Result { messages: number; seconds: number; cpuMs: number; wireBytes: number; publishes: number }

/** Queues `messages` with the cloud down, brings the cloud up and times the drain. */
async function drain(messages: number, settings: Record<string, string>): Promise<Result> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ways-edge-bench-uplink-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    WAYS_EDGE_DATA_DIR: dataDir, WAYS_EDGE_API_HOST: '127.0.0.1', WAYS_EDGE_API_PORT: '0', WAYS_EDGE_MQTT_HOST: '127.0.0.1', WAYS_EDGE_MQTT_PORT: '0',
    WAYS_EDGE_LOG_LEVEL: 'error', WAYS_EDGE_DISCOVERY_ENABLED: 'false', WAYS_EDGE_CLOUD_URL: `mqtt://127.0.0.1:${port}`, WAYS_EDGE_CLOUD_USERNAME: 'iot_dev_benchgateway',
    WAYS_EDGE_CLOUD_RECONNECT_MIN_MS: '20', WAYS_EDGE_CLOUD_RECONNECT_MAX_MS: '50', ...settings,
  };
  const config = loadConfig({ env, cwd: dataDir });
  const gateway = new Gateway(config, createLogger(config.log.level));
  await gateway.start();
  const outbox = gateway.outbox as Outbox;
  const devices = Array.from({ length: DEVICES }, (_, i) => `iot_dev_bench${String(i).padStart(7, '0')}`);
  const t0 = Date.now() - 3_600_000;
  for (let i = 0; i < messages; i += STAGE_CHUNK) {
    for (let k = i; k < Math.min(messages, i + STAGE_CHUNK); k++) {
      const deviceId = devices[k % DEVICES] as string;
      outbox.stage({ deviceId, topic: `devices/${deviceId}/telemetry`, payload: telemetry(k, t0 + k), qos: 1, receivedAt: t0 + k });
    }
    // The staged entries go as one record in this commit.
    await gateway.commits.commit([]);
  }
  await outbox.settled();

  const cloud = await startCloud(port);
  await cloud.connected;
  const start = performance.now();
  const cpu = process.cpuUsage();
  await outboxEmpty(outbox);
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  await cloud.received(messages);
  const result: Result = { messages, seconds, cpuMs: (used.user + used.system) / 1000, wireBytes: cloud.last.bytes, publishes: cloud.last.publishes };
  await gateway.stop();
  cloud.child.kill();
  rmSync(dataDir, { recursive: true, force: true });
  return result;
}

const fmt = (v: number, digits = 0): string => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const sample = telemetry(1, Date.now());
process.stdout.write(`uplink bench: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}; payload ${sample.length} bytes, e.g. ${sample.toString()}\n\n`);

process.stdout.write('## Backlog drain\n\n');
process.stdout.write('| settings | messages | seconds | msg/s | publishes | gateway CPU ms per 1000 msg | target |\n|---|---:|---:|---:|---:|---:|---|\n');
const drains: Array<[string, Record<string, string>]> = [
  ['defaults: batch 2000, gzip, 8 in flight, 100 publishes/s', {}],
  // What the uplink itself can do when the cloud's rate limit is not the bound.
  ['same, publish_rate_limit 0', { WAYS_EDGE_CLOUD_PUBLISH_RATE_LIMIT: '0' }],
];
for (const [name, settings] of drains) {
  const d = await drain(DRAIN_MESSAGES, settings);
  const rate = d.messages / d.seconds;
  process.stdout.write(`| ${name} | ${fmt(d.messages)} | ${fmt(d.seconds, 2)} | ${fmt(rate)} | ${fmt(d.publishes)} | ${fmt((d.cpuMs / d.messages) * 1000, 1)} | ≥ 20,000 msg/s: ${rate >= 20_000 ? 'met' : '**not met**'} |\n`);
}
process.stdout.write('\n');

process.stdout.write(`## Bytes on the wire per message (${fmt(WIRE_MESSAGES)} messages of ${sample.length} bytes; MQTT framing included)\n\n`);
process.stdout.write('| mode | publishes | bytes/message | vs payload | drain msg/s |\n|---|---:|---:|---:|---:|\n');
const modes: Array<[string, Record<string, string>]> = [
  ['batch + gzip', {}],
  ['batch, no gzip', { WAYS_EDGE_CLOUD_GZIP: 'false' }],
  // Mirror mode is one publish per message: at the default 100 publishes/s this run would take 200 s.
  ['mirror (rate limit off)', { WAYS_EDGE_CLOUD_MODE: 'mirror', WAYS_EDGE_CLOUD_PUBLISH_RATE_LIMIT: '0', WAYS_EDGE_CLOUD_INFLIGHT_BATCHES: '100' }],
];
for (const [name, settings] of modes) {
  const r = await drain(WIRE_MESSAGES, settings);
  const per = r.wireBytes / r.messages;
  process.stdout.write(`| ${name} | ${fmt(r.publishes)} | ${fmt(per, 1)} | ${fmt(per / sample.length, 2)}× | ${fmt(r.messages / r.seconds)} |\n`);
}
process.exit(0);
