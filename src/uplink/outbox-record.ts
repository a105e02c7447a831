import { ENTRY_FORMAT } from './outbox-entry.js';

/**
 * One LevelDB record of the outbox (sublevel `out`, docs/UPLINK.md "Outbox"), keyed by the sequence
 * number of its first entry. A record holds the entries of one group commit, with consecutive
 * sequence numbers: one LevelDB operation per commit instead of one per message, which took the
 * per-operation work of abstract-level, classic-level and LevelDB's memtable off every message.
 *
 *   offset  size  field
 *   0       1     format (SEGMENT_FORMAT)
 *   1       4     number of entries n (uint32 BE)
 *   5       …     n × (entry length (uint32 BE), entry (src/uplink/outbox-entry.ts))
 *
 * A record that is a bare entry (ENTRY_FORMAT, as written by releases before segments) is a record of
 * one entry: stores written by them are read as they are, without a migration.
 */
export const SEGMENT_FORMAT = 2;

export const HEADER_BYTES = 5;
/** Each entry's length, before it. */
export const LENGTH_BYTES = 4;

export function encodeRecord(entries: readonly Buffer[]): Buffer {
  let size = HEADER_BYTES;
  for (const e of entries) size += LENGTH_BYTES + e.length;
  const buf = Buffer.allocUnsafe(size);
  buf[0] = SEGMENT_FORMAT;
  buf.writeUInt32BE(entries.length, 1);
  let at = HEADER_BYTES;
  for (const e of entries) {
    at = buf.writeUInt32BE(e.length, at);
    at += e.copy(buf, at);
  }
  return buf;
}

/**
 * The entries of a record, as views into it, in sequence order: from its `skip`-th entry on, at most
 * `max` of them. A reader that wants a few entries of a large record (a QoS 0 commit holds a thousand
 * and more; the uplink reads 500 at a time and often from the middle of one) steps over the others
 * by their lengths instead of making a view of every one: splitting whole records for every read
 * made the uplink's reads from disk ten times the work of what they returned.
 */
export function entriesOf(record: Buffer, skip = 0, max = Number.POSITIVE_INFINITY): Buffer[] {
  if (record[0] === ENTRY_FORMAT) return skip === 0 && max > 0 ? [record] : [];
  if (record[0] !== SEGMENT_FORMAT || record.length < HEADER_BYTES) throw new Error(`not an outbox record (format ${String(record[0])})`);
  const count = record.readUInt32BE(1);
  const entries: Buffer[] = [];
  let at = HEADER_BYTES;
  for (let i = 0; i < count && entries.length < max; i++) {
    if (at + LENGTH_BYTES > record.length) throw new Error('outbox record cut short');
    const length = record.readUInt32BE(at);
    at += LENGTH_BYTES;
    if (at + length > record.length) throw new Error('outbox record cut short');
    if (i >= skip) entries.push(record.subarray(at, at + length));
    at += length;
  }
  return entries;
}

/** How many entries a record holds, without splitting it. */
export function entryCountOf(record: Buffer): number {
  if (record[0] === ENTRY_FORMAT) return 1;
  if (record[0] !== SEGMENT_FORMAT || record.length < HEADER_BYTES) throw new Error(`not an outbox record (format ${String(record[0])})`);
  return record.readUInt32BE(1);
}
