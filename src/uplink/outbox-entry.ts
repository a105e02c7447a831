import { TopicCache } from './topic-cache.js';

/**
 * One outbox entry as stored in LevelDB (sublevel `out`, docs/UPLINK.md "Outbox"): a compact binary
 * record, because the outbox is written for every accepted device message and may hold millions.
 *
 *   offset  size  field
 *   0       1     format (ENTRY_FORMAT)
 *   1       1     flags: bit 0 = the topic is `devices/{device id}/` + the stored suffix
 *   2       6     gateway receive time, ms since the epoch (uint48 BE)
 *   8       6     per-device sequence number (uint48 BE)
 *   14      1     device id length in bytes (n)
 *   15      n     device id (UTF-8)
 *   15+n    2     topic (or suffix) length in bytes (m, uint16 BE)
 *   17+n    m     topic or suffix (UTF-8)
 *   17+n+m  …     payload, as the device sent it
 *
 * uint48 holds ms timestamps until the year 10889 and 2.8·10^14 messages per device.
 */
export const ENTRY_FORMAT = 1;

const FLAG_DEVICE_TOPIC = 0x01;
const HEADER_BYTES = 15;
const MAX_DEVICE_ID_BYTES = 0xff;
const MAX_TOPIC_BYTES = 0xffff;

export interface OutboxEntry {
  deviceId: string;
  /** The full MQTT topic the device published on. */
  topic: string;
  /** Gateway receive time, ms since the epoch. */
  receivedAt: number;
  /** Per-device sequence number: strictly increasing per device, across restarts. */
  deviceSeq: number;
  payload: Buffer;
}

const DEVICES = 'devices/';

/**
 * The part of the topic that is stored: the suffix when the topic is the device's own. Compared in
 * place, without building `devices/{id}/` for every message (this runs once per accepted message).
 */
function storedTopic(deviceId: string, topic: string): { flags: number; text: string } {
  const slash = DEVICES.length + deviceId.length;
  const own = topic.length > slash && topic.charCodeAt(slash) === 0x2f && topic.startsWith(DEVICES) && topic.startsWith(deviceId, DEVICES.length);
  return own ? { flags: FLAG_DEVICE_TOPIC, text: topic.slice(slash + 1) } : { flags: 0, text: topic };
}

/** Encoded size of an entry, without encoding it. */
export function encodedEntrySize(deviceId: string, topic: string, payloadBytes: number): number {
  return HEADER_BYTES + middleOf(deviceId, topic).middle.length + payloadBytes;
}

/**
 * How an entry will be laid out: measured once, then written (encodeEntry, RecordBuilder). `middle`
 * is the part between the fixed header and the payload: device id, topic length, topic (or suffix).
 */
export interface EntryLayout { flags: number; idBytes: number; middle: Buffer; bytes: number }

/**
 * The middle part, made once per device topic (src/uplink/topic-cache.ts): encoding two strings to
 * UTF-8 for every message was most of the entry's cost.
 */
const MIDDLES = new TopicCache<EntryMiddle>(8192);

interface EntryMiddle { flags: number; idBytes: number; middle: Buffer }

function middleOf(deviceId: string, topic: string): EntryMiddle {
  return MIDDLES.lookup(deviceId, topic) ?? MIDDLES.store(deviceId, topic, makeMiddle(deviceId, topic));
}

function makeMiddle(deviceId: string, topic: string): EntryMiddle {
  const { flags, text } = storedTopic(deviceId, topic);
  const idBytes = Buffer.byteLength(deviceId);
  const textBytes = Buffer.byteLength(text);
  if (idBytes > MAX_DEVICE_ID_BYTES) throw new RangeError(`device id longer than ${MAX_DEVICE_ID_BYTES} bytes`);
  if (textBytes > MAX_TOPIC_BYTES) throw new RangeError(`topic longer than ${MAX_TOPIC_BYTES} bytes`);
  const middle = Buffer.allocUnsafe(idBytes + 2 + textBytes);
  middle.write(deviceId, 0, 'utf8');
  middle.writeUInt16BE(textBytes, idBytes);
  middle.write(text, idBytes + 2, 'utf8');
  return { flags, idBytes, middle };
}

export function entryLayout(e: OutboxEntry): EntryLayout {
  const { flags, idBytes, middle } = middleOf(e.deviceId, e.topic);
  return { flags, idBytes, middle, bytes: HEADER_BYTES + middle.length + e.payload.length };
}

/** Writes the entry at `at` (`layout.bytes` of room); returns where its payload starts. */
export function writeEntry(buf: Buffer, at: number, e: OutboxEntry, layout: EntryLayout): number {
  buf[at] = ENTRY_FORMAT;
  buf[at + 1] = layout.flags;
  buf.writeUIntBE(e.receivedAt, at + 2, 6);
  buf.writeUIntBE(e.deviceSeq, at + 8, 6);
  buf[at + 14] = layout.idBytes;
  const to = at + HEADER_BYTES + layout.middle.length;
  buf.set(layout.middle, at + HEADER_BYTES);
  buf.set(e.payload, to);
  return to;
}

export function encodeEntry(e: OutboxEntry): Buffer {
  const layout = entryLayout(e);
  const buf = Buffer.allocUnsafe(layout.bytes);
  writeEntry(buf, 0, e, layout);
  return buf;
}

export function decodeEntry(buf: Buffer): OutboxEntry {
  if (buf.length < HEADER_BYTES + 2 || buf[0] !== ENTRY_FORMAT) throw new Error(`not an outbox entry (format ${String(buf[0])})`);
  const flags = buf[1] as number;
  const receivedAt = buf.readUIntBE(2, 6);
  const deviceSeq = buf.readUIntBE(8, 6);
  const idEnd = HEADER_BYTES + (buf[14] as number);
  const deviceId = buf.toString('utf8', HEADER_BYTES, idEnd);
  const topicEnd = idEnd + 2 + buf.readUInt16BE(idEnd);
  const text = buf.toString('utf8', idEnd + 2, topicEnd);
  const topic = flags & FLAG_DEVICE_TOPIC ? `devices/${deviceId}/${text}` : text;
  // A view, not a copy: entries are short-lived (read, encoded into a batch, dropped).
  return { deviceId, topic, receivedAt, deviceSeq, payload: buf.subarray(topicEnd) };
}
