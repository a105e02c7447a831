import { gunzipSync } from 'node:zlib';

/**
 * A cloud consumer's decoder for the gateway's batches (docs/UPLINK.md "Batch format"), written from
 * the document rather than from the encoder, so that the tests check the documented format.
 */
export interface CloudMessage {
  device_id: string;
  topic: string;
  received_at: string;
  seq: number;
  /** The device's payload bytes (JSON payloads re-serialised compactly). */
  payload: Buffer;
  /** The JSON value when the batch carried `payload`. */
  json?: unknown;
  batch_id: string;
  outbox_id: string;
}

export interface DecodedBatch {
  v: number;
  gateway_id: string;
  outbox_id: string;
  batch_id: string;
  sent_at: string;
  gzip: boolean;
  messages: CloudMessage[];
}

interface RawMessage { device_id: string; topic: string; received_at: string; seq: number; payload?: unknown; payload_base64?: string }

export function decodeBatch(body: Buffer): DecodedBatch {
  const gzip = body[0] === 0x1f && body[1] === 0x8b;
  const doc = JSON.parse((gzip ? gunzipSync(body) : body).toString('utf8')) as Omit<DecodedBatch, 'messages' | 'gzip'> & { messages: RawMessage[] };
  if (doc.v !== 1) throw new Error(`unknown batch format ${doc.v}`);
  const messages = doc.messages.map((m): CloudMessage => {
    const base = { device_id: m.device_id, topic: m.topic, received_at: m.received_at, seq: m.seq, batch_id: doc.batch_id, outbox_id: doc.outbox_id };
    if (m.payload_base64 !== undefined) return { ...base, payload: Buffer.from(m.payload_base64, 'base64') };
    return { ...base, payload: Buffer.from(JSON.stringify(m.payload)), json: m.payload };
  });
  return { v: doc.v, gateway_id: doc.gateway_id, outbox_id: doc.outbox_id, batch_id: doc.batch_id, sent_at: doc.sent_at, gzip, messages };
}
