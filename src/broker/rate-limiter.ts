import { TokenBucket } from '../auth/token-bucket.js';

/**
 * Messages per second per device, enforced by slowing the device down, never by dropping what it
 * sent. A message without a token waits here, in arrival order, until the bucket has refilled.
 *
 * Holding a message is what pauses the device's socket: aedes reads the next chunk from a connection
 * only after every packet of the previous chunk has been handled (lib/client.js, `_parsingBatch`), so
 * while one waits nothing more is read, the kernel buffers fill and TCP flow control stops the sender.
 * (`socket.pause()` would do nothing: aedes reads through 'readable' events, which pause() does not stop.)
 * What waits is at most one read chunk of parsed packets per device.
 */

/** Released turns are batched so a throttled device costs a timer per tick, not per message. */
const MIN_TICK_MS = 20;

interface Turn { owner: object; go: () => void }

interface Lane {
  bucket: TokenBucket;
  waiting: Turn[];
  timer: NodeJS.Timeout | undefined;
}

export class RateLimiter {
  private readonly lanes = new Map<string, Lane>();

  /**
   * @param onThrottled called once for every message that had to wait (the meter's `throttled`).
   */
  constructor(private readonly ratePerSecond: number, private readonly burst: number, private readonly onThrottled: (key: string) => void) {}

  /**
   * Calls `go` at once when `key` has a token and nothing of it is waiting already; otherwise later,
   * in order. `owner` (the connection) lets cancel() drop the turns of a connection that closed.
   */
  admit(key: string, owner: object, go: () => void): void {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { bucket: new TokenBucket(this.ratePerSecond, this.burst), waiting: [], timer: undefined };
      this.lanes.set(key, lane);
    }
    if (lane.waiting.length === 0 && lane.bucket.take()) {
      go();
      return;
    }
    lane.waiting.push({ owner, go });
    this.onThrottled(key);
    if (!lane.timer) this.schedule(key, lane);
  }

  /** Forgets the waiting turns of a closed connection; they were never acknowledged. */
  cancel(key: string, owner: object): void {
    const lane = this.lanes.get(key);
    if (!lane || lane.waiting.length === 0) return;
    lane.waiting = lane.waiting.filter((turn) => turn.owner !== owner);
    if (lane.waiting.length === 0 && lane.timer) { clearTimeout(lane.timer); lane.timer = undefined; }
  }

  /** A deleted device: its bucket goes. */
  forget(key: string): void {
    const lane = this.lanes.get(key);
    if (lane?.timer) clearTimeout(lane.timer);
    this.lanes.delete(key);
  }

  /** Messages of `key` waiting for a token now. */
  waiting(key: string): number { return this.lanes.get(key)?.waiting.length ?? 0; }

  stop(): void {
    for (const lane of this.lanes.values()) if (lane.timer) clearTimeout(lane.timer);
    this.lanes.clear();
  }

  private schedule(key: string, lane: Lane): void {
    lane.timer = setTimeout(() => this.release(key, lane), Math.max(MIN_TICK_MS, lane.bucket.waitMs()));
  }

  private release(key: string, lane: Lane): void {
    lane.timer = undefined;
    let released = 0;
    while (released < lane.waiting.length && lane.bucket.take()) released += 1;
    const turns = lane.waiting.splice(0, released);
    if (lane.waiting.length > 0) this.schedule(key, lane);
    for (const turn of turns) turn.go();
  }
}
