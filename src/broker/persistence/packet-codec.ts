/**
 * Binary record format for stored packets:
 *
 *   [format u8 = 1][payload kind u8][header length u32 BE][header: UTF-8 JSON][payload bytes]
 *
 * The header holds every own enumerable field of the packet except `payload` and functions (e.g.
 * aedes' `writeCallback`). Fields whose value is `undefined` are listed by name so that they come
 * back as present-but-undefined (aedes-packet sets `messageId: undefined` on queued packets, and the
 * conformance suite compares shapes). The payload is stored as raw bytes, not base64 in JSON; its
 * kind records whether it was a Buffer or a string, or absent (e.g. a PUBREL).
 */

const FORMAT = 1;
const PREFIX_BYTES = 6;

export enum PayloadKind {
  Absent = 0,
  Bytes = 1,
  Text = 2,
  Undefined = 3,
  Null = 4,
}

/** A packet as stored: fields (without `payload`) and the payload split off. */
export interface PacketParts {
  fields: Record<string, unknown>;
  kind: PayloadKind;
  /** Present for PayloadKind.Bytes and PayloadKind.Text. */
  bytes: Buffer | undefined;
}

interface Header {
  f: Record<string, unknown>;
  u?: string[];
}

/** Splits any packet-like object into fields and payload. */
export function toParts(packet: object): PacketParts {
  const fields: Record<string, unknown> = {};
  let kind = PayloadKind.Absent;
  let bytes: Buffer | undefined;
  for (const [name, value] of Object.entries(packet)) {
    if (name === 'payload') {
      ({ kind, bytes } = payloadToBytes(value));
    } else if (typeof value !== 'function') {
      fields[name] = value;
    }
  }
  return { fields, kind, bytes };
}

function payloadToBytes(value: unknown): { kind: PayloadKind; bytes: Buffer | undefined } {
  if (value === undefined) return { kind: PayloadKind.Undefined, bytes: undefined };
  if (value === null) return { kind: PayloadKind.Null, bytes: undefined };
  if (typeof value === 'string') return { kind: PayloadKind.Text, bytes: Buffer.from(value, 'utf8') };
  if (value instanceof Uint8Array) return { kind: PayloadKind.Bytes, bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength) };
  throw new TypeError(`cannot store a packet payload of type ${typeof value}`);
}

/** Rebuilds the packet object: a fresh object, the fields shallow-copied. */
export function fromParts(parts: PacketParts): Record<string, unknown> {
  const packet: Record<string, unknown> = { ...parts.fields };
  switch (parts.kind) {
    case PayloadKind.Absent: break;
    case PayloadKind.Undefined: packet['payload'] = undefined; break;
    case PayloadKind.Null: packet['payload'] = null; break;
    case PayloadKind.Text: packet['payload'] = (parts.bytes ?? Buffer.alloc(0)).toString('utf8'); break;
    case PayloadKind.Bytes: packet['payload'] = parts.bytes ?? Buffer.alloc(0); break;
  }
  return packet;
}

/** Encodes a record; pass `bytes: undefined` to store the header only (payload kept elsewhere). */
export function encodeParts(fields: Record<string, unknown>, kind: PayloadKind, bytes: Buffer | undefined): Buffer {
  const header: Header = { f: {} };
  const undef: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) undef.push(name);
    else header.f[name] = value;
  }
  if (undef.length > 0) header.u = undef;
  const json = Buffer.from(JSON.stringify(header, replacer), 'utf8');
  const prefix = Buffer.allocUnsafe(PREFIX_BYTES);
  prefix.writeUInt8(FORMAT, 0);
  prefix.writeUInt8(kind, 1);
  prefix.writeUInt32BE(json.length, 2);
  return bytes === undefined ? Buffer.concat([prefix, json]) : Buffer.concat([prefix, json, bytes]);
}

/** Decodes a record; `bytes` is whatever follows the header (empty for a header-only record). */
export function decodeParts(record: Uint8Array): PacketParts {
  const buf = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  if (buf.length < PREFIX_BYTES) throw new Error('stored packet record is truncated');
  const format = buf.readUInt8(0);
  if (format !== FORMAT) throw new Error(`stored packet record has unknown format ${format}`);
  const kind = buf.readUInt8(1);
  if (!isPayloadKind(kind)) throw new Error(`stored packet record has unknown payload kind ${kind}`);
  const headerEnd = PREFIX_BYTES + buf.readUInt32BE(2);
  if (headerEnd > buf.length) throw new Error('stored packet record is truncated');
  const header = parseHeader(buf.toString('utf8', PREFIX_BYTES, headerEnd));
  const fields: Record<string, unknown> = header.f;
  for (const name of header.u ?? []) fields[name] = undefined;
  return { fields, kind, bytes: buf.subarray(headerEnd) };
}

export function encodePacket(packet: object): Buffer {
  const parts = toParts(packet);
  return encodeParts(parts.fields, parts.kind, parts.bytes);
}

export function decodePacket(record: Uint8Array): Record<string, unknown> {
  return fromParts(decodeParts(record));
}

function isPayloadKind(n: number): n is PayloadKind {
  return n >= PayloadKind.Absent && n <= PayloadKind.Null;
}

function parseHeader(text: string): Header {
  const parsed: unknown = JSON.parse(text, reviver);
  if (!isRecord(parsed) || !isRecord(parsed['f'])) throw new Error('stored packet record has a malformed header');
  const u = parsed['u'];
  if (u !== undefined && !(Array.isArray(u) && u.every((x) => typeof x === 'string'))) {
    throw new Error('stored packet record has a malformed header');
  }
  return u === undefined ? { f: parsed['f'] } : { f: parsed['f'], u };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Nested binary values (e.g. MQTT 5 correlationData in `properties`) survive JSON as
// { type: 'Buffer', data: [...] } — Buffer#toJSON's own shape; plain Uint8Arrays are given it too.
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { type: 'Buffer', data: Array.from(value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (isRecord(value) && value['type'] === 'Buffer' && Array.isArray(value['data']) && Object.keys(value).length === 2) {
    return Buffer.from(value['data'] as number[]);
  }
  return value;
}
