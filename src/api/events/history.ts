/**
 * The last 15 minutes of the per-tick message rates, so that a dashboard opened now shows a chart
 * of the recent past at once instead of an empty one that fills up. Fixed-size typed arrays: 450
 * samples of three numbers, about 10 KB, whatever the traffic.
 */
export interface RateHistoryJson {
  /** Sample times, ms since the epoch, oldest first. */
  at: number[];
  in_per_sec: number[];
  out_per_sec: number[];
}

export class RateHistory {
  private readonly at: Float64Array;
  private readonly inRate: Float64Array;
  private readonly outRate: Float64Array;
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.at = new Float64Array(capacity);
    this.inRate = new Float64Array(capacity);
    this.outRate = new Float64Array(capacity);
  }

  push(at: number, inPerSec: number, outPerSec: number): void {
    this.at[this.next] = at;
    this.inRate[this.next] = inPerSec;
    this.outRate[this.next] = outPerSec;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  toJSON(): RateHistoryJson {
    const out: RateHistoryJson = { at: [], in_per_sec: [], out_per_sec: [] };
    const first = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const k = (first + i) % this.capacity;
      out.at.push(this.at[k] as number);
      out.in_per_sec.push(this.inRate[k] as number);
      out.out_per_sec.push(this.outRate[k] as number);
    }
    return out;
  }
}
