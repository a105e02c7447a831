export interface BackoffOptions {
  /** cloud.reconnect_min_ms: no retry comes sooner. */
  minMs: number;
  /** cloud.reconnect_max_ms: no retry waits longer. */
  maxMs: number;
  /** A link that stayed up this long counts as stable: the next outage starts over at minMs. */
  stableMs?: number;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
}

/** 30 s up is "stable": long enough that a link flapping on every publish does not reset the delay. */
export const STABLE_MS = 30_000;

/**
 * The reconnect policy: capped exponential backoff with jitter. Attempt n (from 0) waits a uniformly
 * random time in [max(min, c/2), c] where c = min(maxMs, minMs · 2^(n+1)). So the first retry waits
 * minMs..2·minMs, each later one about twice as long, never longer than maxMs — and never the same for
 * every gateway of a fleet: when the cloud restarts, a thousand gateways do not come back in step.
 */
export class Backoff {
  private attempt = 0;
  private upSince: number | undefined;
  private readonly stableMs: number;
  private readonly random: () => number;

  constructor(private readonly opts: BackoffOptions) {
    this.stableMs = opts.stableMs ?? STABLE_MS;
    this.random = opts.random ?? Math.random;
  }

  /** The delay before the next connection attempt (and counts the attempt). */
  next(): number {
    const { minMs, maxMs } = this.opts;
    // 2^31 · minMs overflows nothing in a double, and the min() caps it anyway.
    const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(this.attempt + 1, 31));
    const floor = Math.min(ceiling, Math.max(minMs, ceiling / 2));
    this.attempt += 1;
    return Math.round(floor + this.random() * (ceiling - floor));
  }

  /** The link is up. */
  connected(now = Date.now()): void { this.upSince = now; }

  /** The link went down: a stable link resets the policy, a flapping one keeps backing off. */
  disconnected(now = Date.now()): void {
    if (this.upSince !== undefined && now - this.upSince >= this.stableMs) this.attempt = 0;
    this.upSince = undefined;
  }

  /** Failed attempts since the last reset. */
  get attempts(): number { return this.attempt; }
}
