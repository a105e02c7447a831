/**
 * Message and byte rates over the last minute and the last 15 minutes, for /stats, /metrics and the
 * dashboard. The broker calls `record()` once per message, so it must cost next to nothing: counts go
 * into 10-second buckets of a fixed ring (90 buckets = 15 minutes); `record` touches one bucket and,
 * when a bucket boundary has passed, clears the buckets skipped since (at most the ring's length, and
 * each bucket is cleared once per pass of the ring, so O(1) amortised). Snapshots sum the ring.
 */
export type Direction = 'in' | 'out';

export interface RatesSnapshot {
  in_per_sec_1m: number;
  in_per_sec_15m: number;
  out_per_sec_1m: number;
  out_per_sec_15m: number;
  bytes_in_per_sec_1m: number;
  bytes_in_per_sec_15m: number;
  bytes_out_per_sec_1m: number;
  bytes_out_per_sec_15m: number;
}

/** Totals since the gateway started (Prometheus counters). */
export interface RateTotals { messages_in: number; messages_out: number; bytes_in: number; bytes_out: number }

/** Bucket width: fine enough for a 1-minute rate (6 buckets), coarse enough for a tiny ring. */
const BUCKET_MS = 10_000;
const WINDOW_1M = 6;
const WINDOW_15M = 90;
/** The ring holds the 15-minute window; the current (partial) bucket is one of them. */
const SLOTS = WINDOW_15M;

/** Column offsets inside one bucket: messages in, bytes in, messages out, bytes out. */
const MSG_IN = 0, BYTES_IN = 1, MSG_OUT = 2, BYTES_OUT = 3, COLS = 4;

export class MessageRates {
  /** Float64: bytes in 10 s may pass 2^32 at high throughput. */
  private readonly ring = new Float64Array(SLOTS * COLS);
  /** Index (time / BUCKET_MS) of the bucket currently being filled. */
  private current: number;
  private readonly createdAt: number;
  readonly totals: RateTotals = { messages_in: 0, messages_out: 0, bytes_in: 0, bytes_out: 0 };

  constructor(private readonly now: () => number = Date.now) {
    this.createdAt = now();
    this.current = Math.floor(this.createdAt / BUCKET_MS);
  }

  /** Counts one message of `bytes` payload bytes. Called on the message path. */
  record(direction: Direction, bytes: number): void {
    const base = this.advance(this.now()) * COLS;
    const ring = this.ring;
    if (direction === 'in') {
      ring[base + MSG_IN] = (ring[base + MSG_IN] as number) + 1;
      ring[base + BYTES_IN] = (ring[base + BYTES_IN] as number) + bytes;
      this.totals.messages_in += 1;
      this.totals.bytes_in += bytes;
    } else {
      ring[base + MSG_OUT] = (ring[base + MSG_OUT] as number) + 1;
      ring[base + BYTES_OUT] = (ring[base + BYTES_OUT] as number) + bytes;
      this.totals.messages_out += 1;
      this.totals.bytes_out += bytes;
    }
  }

  /**
   * Per-second averages. Each window is the current partial bucket plus the full buckets before it,
   * divided by the time those buckets really cover (and never by time before the gateway started),
   * so a fresh gateway does not report rates diluted by minutes it was not running.
   */
  snapshot(): RatesSnapshot {
    const now = this.now();
    this.advance(now);
    const one = this.sum(WINDOW_1M);
    const fifteen = this.sum(WINDOW_15M);
    const span1 = this.spanSeconds(now, WINDOW_1M);
    const span15 = this.spanSeconds(now, WINDOW_15M);
    return {
      in_per_sec_1m: round(one[MSG_IN] / span1),
      in_per_sec_15m: round(fifteen[MSG_IN] / span15),
      out_per_sec_1m: round(one[MSG_OUT] / span1),
      out_per_sec_15m: round(fifteen[MSG_OUT] / span15),
      bytes_in_per_sec_1m: round(one[BYTES_IN] / span1),
      bytes_in_per_sec_15m: round(fifteen[BYTES_IN] / span15),
      bytes_out_per_sec_1m: round(one[BYTES_OUT] / span1),
      bytes_out_per_sec_15m: round(fifteen[BYTES_OUT] / span15),
    };
  }

  /** Moves the current bucket to `now`, clearing the buckets passed over; returns its slot. */
  private advance(now: number): number {
    const index = Math.floor(now / BUCKET_MS);
    // A clock stepping backwards keeps counting into the current bucket rather than reopening old ones.
    if (index > this.current) {
      const skipped = Math.min(index - this.current, SLOTS);
      for (let i = 1; i <= skipped; i++) this.ring.fill(0, slotOf(this.current + i) * COLS, slotOf(this.current + i) * COLS + COLS);
      this.current = index;
    }
    return slotOf(this.current);
  }

  /** Sums the newest `buckets` buckets, column by column. */
  private sum(buckets: number): [number, number, number, number] {
    const out: [number, number, number, number] = [0, 0, 0, 0];
    for (let i = 0; i < buckets; i++) {
      const base = slotOf(this.current - i) * COLS;
      out[0] += this.ring[base] as number;
      out[1] += this.ring[base + 1] as number;
      out[2] += this.ring[base + 2] as number;
      out[3] += this.ring[base + 3] as number;
    }
    return out;
  }

  private spanSeconds(now: number, buckets: number): number {
    const windowStart = Math.max((this.current - buckets + 1) * BUCKET_MS, this.createdAt);
    // At least one second, so that one message just after start is not reported as thousands a second.
    return Math.max(1, (now - windowStart) / 1000);
  }
}

function slotOf(index: number): number { return ((index % SLOTS) + SLOTS) % SLOTS; }
function round(x: number): number { return Math.round(x * 1000) / 1000; }
