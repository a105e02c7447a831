/**
 * A token bucket: `ratePerSecond` tokens refill continuously up to `capacity`. Used for the API's
 * per-key limit and MQTT's per-device limit.
 */
export class TokenBucket {
  private tokens: number;
  private updated: number;

  constructor(private readonly ratePerSecond: number, readonly capacity: number, now = Date.now()) {
    this.tokens = capacity;
    this.updated = now;
  }

  private refill(now: number): void {
    if (now > this.updated) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updated) / 1000) * this.ratePerSecond);
      this.updated = now;
    }
  }

  /** Takes one token if there is one. */
  take(now = Date.now()): boolean {
    this.refill(now);
    if (this.tokens >= 1) { this.tokens -= 1; return true; }
    return false;
  }

  remaining(now = Date.now()): number { this.refill(now); return Math.floor(this.tokens); }

  /** Milliseconds until one token is there. */
  waitMs(now = Date.now()): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  /** Milliseconds until the bucket is full again. */
  fullInMs(now = Date.now()): number {
    this.refill(now);
    return Math.ceil(((this.capacity - this.tokens) / this.ratePerSecond) * 1000);
  }
}
