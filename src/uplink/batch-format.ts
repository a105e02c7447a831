import { isUtf8 } from 'node:buffer';
import type { StoredEntry } from './outbox.js';
import { seqKey } from './outbox-key.js';
import { isJsonText } from './json-check.js';
import type { GzipStream } from './gzip-stream.js';
import { TopicCache } from './topic-cache.js';

/**
 * The batch format, version 1 (docs/UPLINK.md "Batch format" is the reference for cloud consumers):
 *
 *   {"v":1,"gateway_id":"…","outbox_id":"…","batch_id":"<gateway id>:<first outbox seq, 16 hex>",
 *    "sent_at":"<ISO>","messages":[
 *      {"device_id":"…","topic":"devices/…/telemetry","received_at":"<ISO>","seq":17,"payload":<JSON>},
 *      {"device_id":"…","topic":"…","received_at":"…","seq":18,"payload_base64":"…"}]}
 *
 * `payload` holds the device's payload verbatim when it is UTF-8 JSON text; anything else travels as
 * `payload_base64`. The whole document is UTF-8 JSON, optionally gzip-compressed: a consumer tells
 * by the first two bytes (0x1f 0x8b = gzip, `{` = JSON).
 */
export const BATCH_FORMAT = 1;

/**
 * gzip level 6 (zlib's default): on typical JSON telemetry it reaches nearly level 9's ratio at about
 * twice level 1's CPU (bench/uplink-drain.ts measures it). Compression runs on the libuv thread pool.
 */
export const GZIP_LEVEL = 6;
/** Below this, gzip's 18 bytes of header and trailer rarely pay off. */
const GZIP_MIN_BYTES = 256;

/**
 * Bytes of an MQTT 3.1.1 PUBLISH packet besides topic and payload, at most: fixed header (1),
 * remaining length (≤ 4), topic length (2), packet id (2).
 */
const PUBLISH_OVERHEAD = 9;

/** The largest payload for which a QoS 1 publish on `topic` stays within `maxPacketBytes`. */
export function payloadLimit(topic: string, maxPacketBytes: number): number {
  return maxPacketBytes - PUBLISH_OVERHEAD - Buffer.byteLength(topic);
}

export interface BatchContext {
  gatewayId: string;
  outboxId: string;
  /** ms since the epoch; defaults to now. */
  sentAt?: number;
}

export interface BatchLimits {
  maxMessages: number;
  /** Largest uncompressed document, in bytes (see payloadLimit). */
  maxBytes: number;
}

export type EncodedBatch =
  /** The document holds the first `taken` entries; `full` when a limit (not the input) ended it. */
  | { kind: 'batch'; batchId: string; json: Buffer; taken: number; full: boolean }
  /** The first entry alone does not fit in one publish: it can never be sent. */
  | { kind: 'too_large'; entry: StoredEntry };

export function batchId(gatewayId: string, firstSeq: number): string {
  return `${gatewayId}:${seqKey(firstSeq)}`;
}

/** Whether the payload can be embedded verbatim: UTF-8 JSON text. */
function isEmbeddable(payload: Buffer): boolean {
  return payload.length > 0 && isUtf8(payload) && isJsonText(payload);
}

/**
 * Per-message bytes that repeat: the `{"device_id":…,"topic":…,"received_at":"` opening per device and
 * topic, and the ISO time of the last receive millisecond (a batch's messages share few of them).
 */
const MESSAGE_HEADS = new TopicCache<Buffer>(4096);
let isoAt = -1;
let isoBytes = Buffer.alloc(0);

function messageHead(deviceId: string, topic: string): Buffer {
  return MESSAGE_HEADS.lookup(deviceId, topic)
    ?? MESSAGE_HEADS.store(deviceId, topic, Buffer.from(`{"device_id":${JSON.stringify(deviceId)},"topic":${JSON.stringify(topic)},"received_at":"`));
}

function isoTime(ms: number): Buffer {
  if (ms !== isoAt) { isoAt = ms; isoBytes = Buffer.from(new Date(ms).toISOString(), 'latin1'); }
  return isoBytes;
}

const SEQ = Buffer.from('","seq":');
const PAYLOAD = Buffer.from(',"payload":');
const PAYLOAD_BASE64 = Buffer.from(',"payload_base64":"');
const CLOSE = Buffer.from('}');
const CLOSE_BASE64 = Buffer.from('"}');

function decimalLength(n: number): number {
  let digits = 1;
  for (let v = n; v >= 10; v = Math.floor(v / 10)) digits += 1;
  return digits;
}

/** Writes the non-negative integer `n` in decimal at `at`; returns the offset after it. */
function writeDecimal(buf: Buffer, at: number, n: number): number {
  const end = at + decimalLength(n);
  let v = n;
  for (let i = end - 1; i >= at; i--) { buf[i] = 0x30 + (v % 10); v = Math.floor(v / 10); }
  return end;
}

/** One message of a batch: where its parts come from, measured before anything is written. */
interface MessageParts { head: Buffer; time: Buffer; verbatim: boolean }

function messageParts(e: StoredEntry): MessageParts {
  return { head: messageHead(e.deviceId, e.topic), time: isoTime(e.receivedAt), verbatim: isEmbeddable(e.payload) };
}

function messageBytes(e: StoredEntry, p: MessageParts): number {
  const fixed = p.head.length + p.time.length + SEQ.length + decimalLength(e.deviceSeq);
  return p.verbatim
    ? fixed + PAYLOAD.length + e.payload.length + CLOSE.length
    : fixed + PAYLOAD_BASE64.length + 4 * Math.ceil(e.payload.length / 3) + CLOSE_BASE64.length;
}

function writeMessage(json: Buffer, at: number, e: StoredEntry, p: MessageParts): number {
  let to = at + p.head.copy(json, at);
  to += p.time.copy(json, to);
  to += SEQ.copy(json, to);
  to = writeDecimal(json, to, e.deviceSeq);
  if (p.verbatim) {
    to += PAYLOAD.copy(json, to);
    to += e.payload.copy(json, to);
    return to + CLOSE.copy(json, to);
  }
  to += PAYLOAD_BASE64.copy(json, to);
  to += json.write(e.payload.toString('base64'), to, 'latin1');
  return to + CLOSE_BASE64.copy(json, to);
}

/**
 * Messages encoded between two pauses of encodeSteps (a pass over 2,000 messages held the event
 * loop for 1-2 ms, which showed in the devices' p99 at 5,000 msg/s): 250 are about 0.1 ms.
 */
const ENCODE_SLICE = 250;

/**
 * Encodes as many of `entries` (from the front, in order) as fit the limits into one batch document.
 * The size is exact: the uncompressed document is at most `limits.maxBytes`, so the published bytes
 * are too (gzip is used only when it is smaller). Two passes: the first measures every message from
 * cached byte pieces, the second writes them straight into one buffer of that size, payloads copied as
 * bytes: no string per message or payload, no joined string to encode again.
 *
 * A generator that pauses after every ENCODE_SLICE messages (encodeBatch lets the broker's I/O run
 * in between).
 */
function* encodeSteps(entries: readonly StoredEntry[], ctx: BatchContext, limits: BatchLimits): Generator<void, EncodedBatch | undefined, void> {
  const first = entries[0];
  if (!first) return undefined;
  const id = batchId(ctx.gatewayId, first.seq);
  const head = `{"v":${BATCH_FORMAT},"gateway_id":${JSON.stringify(ctx.gatewayId)},"outbox_id":${JSON.stringify(ctx.outboxId)},"batch_id":${JSON.stringify(id)},"sent_at":"${new Date(ctx.sentAt ?? Date.now()).toISOString()}","messages":[`;
  const tail = ']}';
  let size = Buffer.byteLength(head) + tail.length;
  const parts: MessageParts[] = [];
  let full = false;
  for (const e of entries) {
    if (parts.length >= limits.maxMessages) { full = true; break; }
    const p = messageParts(e);
    const add = messageBytes(e, p) + (parts.length > 0 ? 1 : 0);
    if (size + add > limits.maxBytes) {
      if (parts.length === 0) return { kind: 'too_large', entry: e };
      full = true;
      break;
    }
    parts.push(p);
    size += add;
    if (parts.length % ENCODE_SLICE === 0) yield;
  }
  if (parts.length === limits.maxMessages) full = true;
  const json = Buffer.allocUnsafe(size);
  let at = json.write(head, 0, 'utf8');
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) json[at++] = 0x2c; // ,
    at = writeMessage(json, at, entries[i] as StoredEntry, parts[i] as MessageParts);
    if ((i + 1) % ENCODE_SLICE === 0) yield;
  }
  at += json.write(tail, at, 'latin1');
  return { kind: 'batch', batchId: id, json: at === size ? json : json.subarray(0, at), taken: parts.length, full };
}

/** Encodes a batch (encodeSteps) with a turn of the event loop (setImmediate: after pending I/O) between slices. */
export async function encodeBatch(entries: readonly StoredEntry[], ctx: BatchContext, limits: BatchLimits): Promise<EncodedBatch | undefined> {
  const steps = encodeSteps(entries, ctx, limits);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** gzip when enabled (a compressor is given) and it pays (the result is smaller); otherwise the JSON as it is. */
export async function compressIfPays(json: Buffer, gzip: GzipStream | undefined): Promise<Buffer> {
  if (!gzip || json.length < GZIP_MIN_BYTES) return json;
  const packed = await gzip.compress(json);
  return packed.length < json.length ? packed : json;
}
