/**
 * Small statistics for the bench: medians of repeated runs and percentiles of latency samples.
 * Percentiles use the nearest-rank method on sorted samples (no interpolation), which is what
 * latency tools such as wrk and HdrHistogram report.
 */

/** The p-th percentile (0 < p ≤ 100) of ascending `sorted` by nearest rank; NaN when empty. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (p <= 0) return sorted[0] as number;
  if (p >= 100) return sorted[n - 1] as number;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.max(0, rank - 1)] as number;
}

/** Percentile of unsorted samples (copied and sorted numerically). */
export function percentile(samples: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(samples).sort();
  return percentileSorted(sorted, p);
}

/**
 * The median of repeated runs. For an even count it is the mean of the two middle values. NaN
 * entries (a failed run) are ignored; all-NaN gives NaN.
 */
export function median(values: readonly number[]): number {
  const xs = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const n = xs.length;
  if (n === 0) return NaN;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? (xs[mid] as number) : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2;
}

export interface LatencySummary { count: number; p50: number; p95: number; p99: number; max: number }

/** p50/p95/p99/max of samples (any unit; the unit of the input is the unit of the output). */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  return {
    count: sorted.length,
    p50: percentileSorted(sorted, 50),
    p95: percentileSorted(sorted, 95),
    p99: percentileSorted(sorted, 99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : NaN,
  };
}

/** Growable Float64 sample buffer with a hard cap (older samples are kept, newer ones counted only). */
export class Samples {
  private buf: Float64Array;
  private n = 0;
  dropped = 0;

  constructor(private readonly cap = 1_000_000, initial = 16_384) {
    this.buf = new Float64Array(Math.min(initial, cap));
  }

  add(v: number): void {
    if (this.n === this.buf.length) {
      if (this.n >= this.cap) { this.dropped += 1; return; }
      const next = new Float64Array(Math.min(this.cap, this.buf.length * 2));
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = v;
  }

  get length(): number { return this.n; }
  clear(): void { this.n = 0; this.dropped = 0; }
  view(): Float64Array { return this.buf.subarray(0, this.n); }
}
