/**
 * The publishing devices of one generator process: full speed (QoS 0 while the socket takes it,
 * QoS 1 within a window of unacknowledged messages, both within the end-to-end credit the bench
 * relays with 'allow') or paced (a rate in msg/s, checked every millisecond, round-robin over the
 * devices). Payloads carry their send time (bench/lib/payload.ts).
 */
import { LeanClient, PublishTemplate } from '../lib/lean-mqtt.js';
import { nowUs, payloadTemplate, stamp } from '../lib/payload.js';
import type { CommandOf, Results } from '../lib/protocol.js';
import { connectDevice, endAll, mapLimit, sleep } from './common.js';

/** QoS 0 messages per socket write at full speed (about 10 KB with 200-byte payloads). */
const FLOOD_CHUNK = 40;
/** How often a paced generator looks at the clock. */
const PACE_TICK_MS = 1;

interface Publisher {
  client: LeanClient;
  topic: string;
  template: PublishTemplate | undefined;
  inflight: number;
  nextId: number;
  blocked: boolean;
  /** A pump turn is scheduled (setImmediate) for this device. */
  scheduled: boolean;
  seq: number;
}

const publishers: Publisher[] = [];
let publishing: { qos: 0 | 1; rate: number; window: number; limit: number; timer: NodeJS.Timeout | undefined; startedUs: number } | undefined;
let sent = 0;
let acked = 0;
let blockedTicks = 0;

export async function connectPublishers(cmd: CommandOf<'connect-publishers'>): Promise<Results['connect-publishers']> {
  const t0 = performance.now();
  const retries = { n: 0 };
  await mapLimit(cmd.devices, cmd.concurrency, async (d) => {
    const client = await connectDevice(cmd.broker, d, retries);
    const p: Publisher = { client, topic: `devices/${d.id}/telemetry`, template: undefined, inflight: 0, nextId: 1, blocked: false, scheduled: false, seq: 0 };
    client.onPuback = () => {
      p.inflight -= 1;
      acked += 1;
      if (publishing && p.inflight <= publishing.window / 2) kick(p);
    };
    client.socket?.on('drain', () => {
      p.blocked = false;
      kick(p);
    });
    publishers.push(p);
  });
  return { connected: publishers.length, ms: performance.now() - t0 };
}

function nextPacketId(p: Publisher): number {
  const id = p.nextId;
  p.nextId = id === 65535 ? 1 : id + 1;
  return id;
}

/** Writes `count` messages of `p` in one socket write (fewer when the limit is near). */
function writeMessages(p: Publisher, wanted: number): void {
  const count = Math.min(wanted, (publishing?.limit ?? Infinity) - sent);
  if (count <= 0) return;
  const t = p.template as PublishTemplate;
  const bytes = t.length * count;
  // A fresh buffer per write: the socket keeps a reference until it is flushed.
  const buf = Buffer.allocUnsafe(bytes);
  const us = nowUs();
  let at = 0;
  for (let i = 0; i < count; i++) {
    t.writeInto(buf, at, t.qos > 0 ? nextPacketId(p) : 0);
    p.seq += 1;
    stamp(buf, at + t.payloadAt, us, p.seq);
    at += t.length;
  }
  if (t.qos > 0) p.inflight += count;
  sent += count;
  if (!p.client.write(buf)) p.blocked = true;
}

/** Schedules a pump turn for a full-speed publisher (one at a time per device). */
function kick(p: Publisher): void {
  if (p.scheduled || !publishing || publishing.rate !== 0 || p.blocked) return;
  p.scheduled = true;
  setImmediate(() => { p.scheduled = false; pump(p); });
}

/**
 * Full speed: QoS 0 writes while the socket takes it (a bounded number of chunks per turn, so one
 * device cannot starve the others or the IPC channel); QoS 1 fills the device's window. Both stop
 * at the credit limit and resume on 'allow', 'drain' or PUBACK.
 */
function pump(p: Publisher): void {
  const state = publishing;
  if (!state || state.rate !== 0 || p.blocked || !p.client.connected) return;
  if (state.qos === 0) {
    for (let i = 0; i < 8 && !p.blocked && sent < state.limit; i++) writeMessages(p, FLOOD_CHUNK);
    if (!p.blocked && sent < state.limit) kick(p);
  } else {
    const room = state.window - p.inflight;
    if (room > 0) writeMessages(p, room);
  }
}

export function allow(cmd: CommandOf<'allow'>): Results['allow'] {
  if (!publishing || cmd.limit <= publishing.limit) return {};
  publishing.limit = cmd.limit;
  for (const p of publishers) kick(p);
  return {};
}

export function startPublishing(cmd: CommandOf<'publish'>): Results['publish'] {
  const payload = payloadTemplate(cmd.payloadBytes);
  for (const p of publishers) { p.template = new PublishTemplate(p.topic, payload, cmd.qos); p.blocked = false; p.inflight = 0; }
  publishing = { qos: cmd.qos, rate: cmd.rate, window: cmd.window, limit: cmd.limit ?? Infinity, timer: undefined, startedUs: nowUs() };
  sent = 0;
  acked = 0;
  blockedTicks = 0;
  if (cmd.rate === 0) {
    for (const p of publishers) kick(p);
  } else {
    const state = publishing;
    let rr = 0;
    state.timer = setInterval(() => {
      const due = Math.floor(((nowUs() - state.startedUs) / 1e6) * cmd.rate) - sent;
      if (due <= 0 || publishers.length === 0) return;
      // Round-robin: at most one message per device per pass, so a burst spreads over devices.
      let left = due;
      let idle = 0;
      while (left > 0 && idle < publishers.length) {
        const p = publishers[rr % publishers.length] as Publisher;
        rr += 1;
        if (p.blocked || !p.client.connected || (cmd.qos > 0 && p.inflight >= cmd.window)) { idle += 1; continue; }
        idle = 0;
        writeMessages(p, 1);
        left -= 1;
      }
      if (left > 0) blockedTicks += 1;
    }, PACE_TICK_MS);
  }
  return {};
}

export async function finishPublishing(cmd: CommandOf<'finish-publish'>): Promise<Results['finish-publish']> {
  const deadline = performance.now() + cmd.timeoutMs;
  const limit = publishing?.limit ?? sent;
  while ((sent < limit || acked < sent) && performance.now() < deadline) await sleep(20);
  return stopPublishing({ op: 'stop-publish', drainMs: 0 });
}

export async function stopPublishing(cmd: CommandOf<'stop-publish'>): Promise<Results['stop-publish']> {
  if (publishing?.timer) clearInterval(publishing.timer);
  const qos = publishing?.qos ?? 0;
  publishing = undefined;
  if (qos > 0) {
    const deadline = performance.now() + cmd.drainMs;
    while (acked < sent && performance.now() < deadline) await sleep(20);
  }
  for (const p of publishers) p.inflight = 0;
  return { sent, acked, blockedTicks };
}

export async function disconnectPublishers(): Promise<Results['disconnect-publishers']> {
  if (publishing?.timer) clearInterval(publishing.timer);
  publishing = undefined;
  await endAll(publishers.splice(0).map((p) => p.client));
  return {};
}

export function publishStatus(): Results['publish-status'] {
  let inflight = 0;
  let blockedSockets = 0;
  let scheduled = 0;
  for (const p of publishers) { inflight += p.inflight; if (p.blocked) blockedSockets += 1; if (p.scheduled) scheduled += 1; }
  return { sent, acked, limit: publishing?.limit ?? -1, inflight, blockedSockets, scheduled };
}
