import { entryLayout, writeEntry, type OutboxEntry } from './outbox-entry.js';
import { HEADER_BYTES, LENGTH_BYTES, SEGMENT_FORMAT } from './outbox-record.js';

/** The smallest buffer a record starts in; it grows by doubling. */
const MIN_CAPACITY = 4096;

/**
 * Builds the next outbox record (src/uplink/outbox-record.ts) in place, entry by entry as they are
 * staged: each entry is written once, straight into the record, instead of into a buffer of its own
 * that the record then copied (one allocation and one copy less per message).
 *
 * A taken record is never written to again, and every buffer that outgrew itself is left as it was:
 * the payload views handed out stay valid for as long as anyone holds them (the recent entries do).
 * The next record starts with room for about as much as the last one held.
 */
export class RecordBuilder {
  private buf = Buffer.allocUnsafe(MIN_CAPACITY);
  private at = HEADER_BYTES;
  private entries = 0;

  /** Appends an entry; returns its size as stored and a view of its payload inside the record. */
  append(e: OutboxEntry): { bytes: number; payload: Buffer } {
    const layout = entryLayout(e);
    this.ensure(LENGTH_BYTES + layout.bytes);
    const start = this.buf.writeUInt32BE(layout.bytes, this.at);
    const payloadAt = writeEntry(this.buf, start, e, layout);
    this.at = start + layout.bytes;
    this.entries += 1;
    return { bytes: layout.bytes, payload: this.buf.subarray(payloadAt, this.at) };
  }

  get count(): number { return this.entries; }

  /** The record of everything appended since the last take(); undefined when that is nothing. */
  take(): Buffer | undefined {
    if (this.entries === 0) return undefined;
    this.buf[0] = SEGMENT_FORMAT;
    this.buf.writeUInt32BE(this.entries, 1);
    const record = this.buf.subarray(0, this.at);
    this.buf = Buffer.allocUnsafe(Math.max(MIN_CAPACITY, Math.ceil(this.at * 1.25)));
    this.at = HEADER_BYTES;
    this.entries = 0;
    return record;
  }

  private ensure(more: number): void {
    if (this.at + more <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + more));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }
}
