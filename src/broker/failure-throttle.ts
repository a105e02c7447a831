/**
 * Slows down repeated CONNECT failures per key (a remote address, a username): after a few free
 * failures, each further failure of that key is answered later, doubling up to a ceiling. Keys are
 * independent, so a device that is not failing is never slowed, even from a busy address; a key that
 * stays quiet for a while is forgotten. The map is bounded (oldest key out first) so a flood of new
 * addresses or usernames cannot grow memory.
 */
export interface FailureThrottleLimits {
  /** Failures a key may have before its answers are delayed (typos, a device with an old password). */
  freeFailures: number;
  /** Delay of the first slowed failure; doubles with each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A key without failures for this long starts over. */
  forgetAfterMs: number;
  maxKeys: number;
}

export const FAILURE_THROTTLE_DEFAULTS: FailureThrottleLimits = {
  freeFailures: 3,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
  forgetAfterMs: 15 * 60_000,
  maxKeys: 10_000,
};

interface Entry { failures: number; last: number }

export class FailureThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly limits: FailureThrottleLimits = FAILURE_THROTTLE_DEFAULTS) {}

  /** Records one failure for every key; returns how long to wait before answering it. */
  failed(keys: readonly string[], now = Date.now()): number {
    let delay = 0;
    for (const key of keys) {
      const entry = this.current(key, now) ?? { failures: 0, last: now };
      entry.failures += 1;
      entry.last = now;
      // Re-insert so that Map order is least-recently-failed first (the eviction order).
      this.entries.delete(key);
      this.entries.set(key, entry);
      delay = Math.max(delay, this.delayFor(entry.failures));
    }
    while (this.entries.size > this.limits.maxKeys) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return delay;
  }

  /**
   * How long `key` is still backing off: its latest failure plus the delay that failure earned. While
   * it lasts the authenticator refuses that key's attempts without checking a password.
   */
  backoffMs(key: string, now = Date.now()): number {
    const entry = this.current(key, now);
    if (!entry) return 0;
    return Math.max(0, entry.last + this.delayFor(entry.failures) - now);
  }

  /** A success clears the keys: the device knows its password again. */
  succeeded(keys: readonly string[]): void {
    for (const key of keys) this.entries.delete(key);
  }

  /** Failures currently held against a key (for tests and logs). */
  failures(key: string, now = Date.now()): number {
    return this.current(key, now)?.failures ?? 0;
  }

  get size(): number { return this.entries.size; }

  private current(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && now - entry.last > this.limits.forgetAfterMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private delayFor(failures: number): number {
    const over = failures - this.limits.freeFailures;
    if (over <= 0) return 0;
    return Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** Math.min(over - 1, 30));
  }
}
