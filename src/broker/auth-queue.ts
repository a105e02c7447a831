import { GatewayError } from '../errors.js';

/**
 * Runs password checks (scrypt: 16 MiB and tens of ms each, on libuv's small thread pool, which
 * LevelDB and the file system share) at most `concurrency` at a time, with a bounded waiting line.
 * A reconnect storm therefore costs a steady trickle of hashing instead of starving the store, and
 * past the line a CONNECT is refused at once ("server unavailable") so the device retries later.
 */
export class AuthQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly concurrency: number, private readonly maxWaiting: number) {}

  /** Runs `task` when a slot is free. `cancelled` is asked once it is its turn (the client may have gone). */
  async run<T>(task: () => Promise<T>, cancelled: () => boolean): Promise<T | undefined> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new GatewayError('rate_limited', `too many connections are being authenticated (${this.maxWaiting} waiting); retry later`);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    // Here this call holds a slot: either taken above or handed over by release().
    try {
      return cancelled() ? undefined : await task();
    } finally {
      this.release();
    }
  }

  get pending(): number { return this.waiting.length; }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next in line, so `running` stays the same.
    if (next) next();
    else this.running -= 1;
  }
}
