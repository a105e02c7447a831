import { GatewayError } from '../errors.js';

/**
 * Runs password checks at most `concurrency` at a time, with a bounded waiting line; past the line a
 * CONNECT is refused at once ("server unavailable") so the device retries later. A check of the
 * current format (salted SHA-256) takes microseconds, so the line rarely forms; it matters for hashes
 * of earlier versions (scrypt: 16 MiB and ~45 ms each on libuv's small thread pool, which LevelDB and
 * the file system share), checked once per device after an upgrade, and for floods: a reconnect storm
 * onto an old store costs a steady trickle of hashing instead of starving the store.
 *
 * The line is served round-robin by remote address: one address with a hundred connections waiting
 * (a password guesser, a misbehaving fleet behind one NAT) gets one check in turn like any other
 * address, so a device elsewhere waits for a few checks, not for that backlog.
 */
export class AuthQueue {
  private running = 0;
  /** Waiting tasks per address, in the order the addresses will be served. */
  private readonly waiting = new Map<string, Array<() => void>>();
  private waitingCount = 0;

  constructor(private readonly concurrency: number, private readonly maxWaiting: number) {}

  /** Runs `task` when a slot is free. `cancelled` is asked once it is its turn (the client may have gone). */
  async run<T>(task: () => Promise<T>, cancelled: () => boolean, address = ''): Promise<T | undefined> {
    if (this.running >= this.concurrency) {
      if (this.waitingCount >= this.maxWaiting) {
        throw new GatewayError('rate_limited', `too many connections are being authenticated (${this.maxWaiting} waiting); retry later`);
      }
      await new Promise<void>((resolve) => {
        const line = this.waiting.get(address);
        if (line) line.push(resolve);
        else this.waiting.set(address, [resolve]);
        this.waitingCount += 1;
      });
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

  get pending(): number { return this.waitingCount; }

  private release(): void {
    // The slot passes straight to the next in line, so `running` stays the same.
    const next = this.waiting.entries().next();
    if (next.done) { this.running -= 1; return; }
    const [address, line] = next.value;
    const resume = line.shift() as () => void;
    this.waiting.delete(address);
    // Round robin: an address with more waiting goes to the back of the line of addresses.
    if (line.length > 0) this.waiting.set(address, line);
    this.waitingCount -= 1;
    resume();
  }
}
