/**
 * The consumer at the local "cloud" broker: decodes the uplink's batches (gzip or JSON, docs/UPLINK.md
 * "Batch format"; one message per publish in mirror mode) and counts messages, unique by device
 * sequence number. It reconnects by itself when the cloud broker restarts (the drain test).
 */
import { gunzipSync } from 'node:zlib';
import { LeanClient } from '../lib/lean-mqtt.js';
import { nowUs, S_OFFSET, sentAtUs } from '../lib/payload.js';
import type { CommandOf, Results } from '../lib/protocol.js';
import { sleep } from './common.js';

let cloud: { client: LeanClient | undefined; closing: boolean } | undefined;
const cloudCounts = { batches: 0, messages: 0, unique: 0, duplicates: 0, connects: 0 };
const lastSeq = new Map<string, number>();

let watch: { target: number; firstUs: number; lastUs: number; done: () => void } | undefined;

function countCloudMessage(deviceId: string, seq: number): void {
  cloudCounts.messages += 1;
  const last = lastSeq.get(deviceId) ?? 0;
  if (seq > last) { cloudCounts.unique += 1; lastSeq.set(deviceId, seq); } else cloudCounts.duplicates += 1;
  if (watch) {
    const now = nowUs();
    if (Number.isNaN(watch.firstUs)) watch.firstUs = now;
    watch.lastUs = now;
    if (cloudCounts.unique >= watch.target) watch.done();
  }
}

export function cloudWatch(cmd: CommandOf<'cloud-watch'>): Promise<Results['cloud-watch']> {
  const startUs = nowUs();
  return new Promise((resolve) => {
    const finish = (reached: boolean): void => {
      clearTimeout(timer);
      const w = watch;
      watch = undefined;
      resolve({ reached, unique: cloudCounts.unique, firstUs: w?.firstUs ?? NaN, lastUs: w?.lastUs ?? NaN, startUs });
    };
    const timer = setTimeout(() => finish(false), cmd.timeoutMs);
    watch = { target: cmd.unique, firstUs: NaN, lastUs: NaN, done: () => finish(true) };
    if (cloudCounts.unique >= cmd.unique) finish(true);
  });
}

interface BatchDoc { messages?: Array<{ device_id?: string; seq?: number }> }

function onCloudPublish(topic: Buffer, payload: Buffer): void {
  let doc: Buffer = payload;
  if (payload[0] === 0x1f && payload[1] === 0x8b) doc = gunzipSync(payload);
  if (doc[0] !== 0x7b) return;
  let parsed: BatchDoc;
  try { parsed = JSON.parse(doc.toString('utf8')) as BatchDoc; } catch { return; }
  if (Array.isArray(parsed.messages)) {
    cloudCounts.batches += 1;
    for (const m of parsed.messages) countCloudMessage(String(m.device_id), Number(m.seq));
  } else if (sentAtUs(doc) >= 0) {
    // mirror mode: one device message per publish, on the device's own topic.
    const device = topic.toString('utf8').split('/')[1] ?? '';
    countCloudMessage(device, Number(doc.toString('ascii', S_OFFSET, S_OFFSET + 10)));
  }
}

export async function connectCloud(cmd: CommandOf<'connect-cloud'>): Promise<Results['connect-cloud']> {
  const state = { client: undefined as LeanClient | undefined, closing: false };
  cloud = state;
  const attempt = async (): Promise<void> => {
    for (;;) {
      if (state.closing) return;
      // clean=false on a broker with persistence: the subscription survives a restart of the cloud.
      const client = new LeanClient({ broker: cmd.broker, clientId: cmd.clientId, keepalive: 600, clean: false });
      try {
        const rc = await client.connect(5_000);
        if (rc !== 0) throw new Error(`cloud CONNACK ${rc}`);
        client.onPublish = onCloudPublish;
        await client.subscribe(cmd.filter, 1);
        cloudCounts.connects += 1;
        state.client = client;
        client.onClose = () => { state.client = undefined; if (!state.closing) setTimeout(() => void attempt(), 20); };
        return;
      } catch {
        client.destroy();
        await sleep(20);
      }
    }
  };
  await attempt();
  return {};
}

export function cloudCount(): Results['cloud-count'] { return { ...cloudCounts, connected: cloud?.client?.connected ?? false }; }

export async function disconnectCloud(): Promise<Results['disconnect-cloud']> {
  if (cloud) { cloud.closing = true; await cloud.client?.end(); }
  cloud = undefined;
  return {};
}
