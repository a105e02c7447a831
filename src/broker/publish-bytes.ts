import { varintLength, writeVarint } from './remaining-length.js';

/**
 * A PUBLISH packet of MQTT 3.1/3.1.1 (all aedes speaks) laid out in one buffer, the bytes
 * mqtt-packet's writeToStream makes. mqtt-packet writes a PUBLISH as five stream writes (header,
 * remaining length, topic length, topic, payload; six with a packet id) and logs each step through
 * `debug`: at full speed every delivery paid for that, and the connection's corked write carried
 * five small chunks per message into the TLS layer.
 */

/** The most that fits in MQTT's four-byte remaining length. */
const MAX_REMAINING_LENGTH = 268_435_455;
/**
 * Up to this payload size the payload is copied into the packet's buffer (one chunk); a larger one
 * is written after the header as it is, since copying it would cost more than the extra chunk.
 */
const COPY_PAYLOAD_MAX = 2048;

/** What the encoder needs of a packet aedes writes (mqtt-packet's IPublishPacket). */
export interface PublishFields {
  topic: unknown;
  payload?: unknown;
  qos?: number;
  dup?: boolean;
  retain?: boolean;
  messageId?: number;
}

/**
 * The packet as one buffer, or as header and payload for a large payload; undefined when the packet
 * is not the plain case (a string payload, a missing packet id, an invalid QoS…): mqtt-packet then
 * writes it, with its own checks and errors.
 */
export function publishBytes(packet: PublishFields): Buffer[] | undefined {
  const { topic, payload, messageId } = packet;
  const qos = packet.qos ?? 0;
  if (typeof topic !== 'string' || !Buffer.isBuffer(payload)) return undefined;
  if (qos !== 0 && qos !== 1 && qos !== 2) return undefined;
  if (qos > 0 && (typeof messageId !== 'number' || !Number.isInteger(messageId) || messageId < 0 || messageId > 0xffff)) return undefined;
  const topicBytes = Buffer.byteLength(topic);
  if (topicBytes > 0xffff) return undefined;
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + payload.length;
  if (remaining > MAX_REMAINING_LENGTH) return undefined;
  const copyPayload = payload.length <= COPY_PAYLOAD_MAX;
  const headerBytes = 1 + varintLength(remaining) + remaining - payload.length;
  const out = Buffer.allocUnsafe(headerBytes + (copyPayload ? payload.length : 0));
  out[0] = 0x30 | (packet.dup ? 0x08 : 0) | (qos << 1) | (packet.retain ? 0x01 : 0);
  let at = writeVarint(out, 1, remaining);
  out[at++] = topicBytes >> 8;
  out[at++] = topicBytes & 0xff;
  at += out.write(topic, at, 'utf8');
  if (qos > 0) {
    out[at++] = (messageId as number) >> 8;
    out[at++] = (messageId as number) & 0xff;
  }
  if (!copyPayload) return [out, payload];
  out.set(payload, at);
  return [out];
}
