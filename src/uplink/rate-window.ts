/**
 * A sliding window of per-second sums (the last `seconds` whole seconds), for rates shown in /stats:
 * the outbox inflow in bytes/s and the send rate in messages/s. Adding is O(1); reading is
 * O(seconds). Fixed memory, no timers.
 */
export class RateWindow {
  private readonly sums: Float64Array;
  private readonly stamps: Float64Array;

  constructor(private readonly seconds = 60) {
    this.sums = new Float64Array(seconds);
    this.stamps = new Float64Array(seconds).fill(-1);
  }

  add(amount: number, now = Date.now()): void {
    const second = Math.floor(now / 1000);
    const i = second % this.seconds;
    if (this.stamps[i] !== second) { this.stamps[i] = second; this.sums[i] = 0; }
    this.sums[i] = (this.sums[i] as number) + amount;
  }

  /** Sum over the last `window` seconds (the current partial second included) divided by `window`. */
  perSecond(window = this.seconds, now = Date.now()): number {
    const w = Math.min(window, this.seconds);
    const second = Math.floor(now / 1000);
    let total = 0;
    for (let s = second - w + 1; s <= second; s++) {
      const i = ((s % this.seconds) + this.seconds) % this.seconds;
      if (this.stamps[i] === s) total += this.sums[i] as number;
    }
    return total / w;
  }
}
