/**
 * MQTT's "remaining length" (MQTT 3.1.1 §2.2.3): 7 bits per byte, lowest first, at most four bytes.
 * Read by the packet parser's fast path (packet-parser.ts), written by the PUBLISH encoder
 * (publish-bytes.ts); the bench's load generator uses both. The packet guard (packet-size.ts) reads
 * it byte by byte across chunks, which these whole-buffer helpers do not cover.
 */

/** Bytes of the varint for `n`. */
export function varintLength(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
}

/** Writes the varint for `n` at `at`; returns the offset after it. */
export function writeVarint(into: Buffer, at: number, n: number): number {
  let v = n;
  do {
    let byte = v % 0x80;
    v = Math.floor(v / 0x80);
    if (v > 0) byte |= 0x80;
    into[at++] = byte;
  } while (v > 0);
  return at;
}

/** Where a varint read put its result: a caller-owned object, so that reading allocates nothing. */
export interface VarintRead {
  value: number;
  /** The offset after the varint. */
  end: number;
}

/**
 * Reads the varint at `at` into `out`. False when the buffer ends before it does, or when it runs
 * past four bytes (malformed): the caller then waits for more bytes or leaves the packet to a parser
 * that reports the error.
 */
export function readVarint(buf: Buffer, at: number, out: VarintRead): boolean {
  let value = 0;
  let multiplier = 1;
  for (let p = at; p < buf.length && p < at + 4; p++) {
    const byte = buf[p] as number;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) {
      out.value = value;
      out.end = p + 1;
      return true;
    }
    multiplier *= 0x80;
  }
  return false;
}
