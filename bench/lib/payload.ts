/**
 * The telemetry payload the generator sends: JSON text of an exact size, so that the gateway's
 * uplink embeds it as JSON (as it would real sensor telemetry) and the cloud consumer can read it:
 *
 *   {"t":"0000002612345678","s":"0000000042","d":"<filler>"}
 *
 * `t` is the send time in microseconds of the monotonic clock (process.hrtime, CLOCK_MONOTONIC: the
 * same clock in every process on the machine, so generator and subscriber may be different
 * processes); `s` is the sequence number. Both are fixed-width digit strings (JSON numbers may not
 * have leading zeros), patched in place for every message.
 */
const HEAD = '{"t":"';
const T_DIGITS = 16;
const MID = '","s":"';
const S_DIGITS = 10;
const FILL_HEAD = '","d":"';
const TAIL = '"}';
export const T_OFFSET = HEAD.length;
export const S_OFFSET = T_OFFSET + T_DIGITS + MID.length;
const FIXED = HEAD.length + T_DIGITS + MID.length + S_DIGITS + FILL_HEAD.length + TAIL.length;
export const MIN_PAYLOAD_BYTES = FIXED;

/** Filler that compresses about like real telemetry (not a run of one character). */
function filler(n: number): string {
  const words = 'temperature humidity co2 pressure lux occupancy battery rssi voltage ';
  let out = '';
  let i = 0;
  while (out.length < n) { out += words[(i * 7) % words.length]; i += 1; }
  return out.slice(0, n);
}

export function payloadTemplate(bytes: number): Buffer {
  if (bytes < FIXED) throw new RangeError(`payload must be at least ${FIXED} bytes`);
  const text = HEAD + '0'.repeat(T_DIGITS) + MID + '0'.repeat(S_DIGITS) + FILL_HEAD + filler(bytes - FIXED) + TAIL;
  return Buffer.from(text, 'ascii');
}

/** Writes `value` (a non-negative integer) as `width` decimal digits ending before `offset + width`. */
export function writeDigits(buf: Buffer, offset: number, width: number, value: number): void {
  let v = Math.floor(value);
  for (let i = offset + width - 1; i >= offset; i--) {
    buf[i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
}

export function readDigits(buf: Buffer, offset: number, width: number): number {
  let v = 0;
  for (let i = offset; i < offset + width; i++) {
    const d = (buf[i] as number) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

/** Microseconds of the monotonic clock shared by all processes on this machine. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Stamps a payload that sits at `at` in `buf`. */
export function stamp(buf: Buffer, at: number, us: number, seq: number): void {
  writeDigits(buf, at + T_OFFSET, T_DIGITS, us);
  writeDigits(buf, at + S_OFFSET, S_DIGITS, seq);
}

/** The send time of a received payload (µs), or NaN when it is not one of ours. */
export function sentAtUs(payload: Buffer): number {
  return payload.length >= FIXED ? readDigits(payload, T_OFFSET, T_DIGITS) : NaN;
}

export const T_WIDTH = T_DIGITS;
