import type { AbstractBatchOperation } from 'abstract-level';
import type { Db } from './store.js';

export type BatchOp = AbstractBatchOperation<Db, string, unknown>;

/** Something that has state to persist along with every group commit (e.g. usage counters). */
export interface CommitContributor {
  pendingOps(): BatchOp[];
  /** The batch holding this contributor's last pendingOps() failed (with `err`): mark them pending again. */
  commitFailed(err: unknown): void;
  /** The batch holding this contributor's last pendingOps() (and what was queued with them) is synced. */
  committed?(): void;
}

/**
 * How long operations that nobody waits for (QoS 0 messages) may sit before they are written, when
 * no waited-for commit takes them along sooner. Under a QoS 0 flood this turns a synced write per
 * few dozen messages (the previous fsync's worth) into one per this many milliseconds, with each
 * device's counters written once per batch instead of once per message. QoS 0 promises nothing; a
 * crash loses at most this long of it, and the uplink sees it this much later.
 */
export const SOFT_COMMIT_DELAY_MS = 25;

/**
 * The shortest time between the starts of two synced batches. Every synced batch has a fixed cost
 * whatever it holds (abstract-level and classic-level's per-call work, a thread-pool round trip and an
 * fdatasync: about 190 µs of CPU here, bench/outbox-cost.ts), and back-to-back commits made it the
 * gateway's largest per-message cost under a steady stream of QoS 1 messages (a batch per 2–3
 * messages at 5,000 msg/s). Waiting this long at most lets a batch gather what arrives meanwhile; a
 * commit after a quiet spell starts at once. It bounds fsyncs per second too (SD cards wear).
 * 5 ms rather than 2: at 5,000 QoS 1 msg/s it cut the gateway's CPU per message by a tenth (five
 * alternating rounds, 128–143 against 147–159 µs, 2026-11-27) with no change at full speed, and
 * 200 instead of 500 fsyncs a second. The price is at most 3 ms more before a PUBACK under a steady
 * stream; delivery to subscribers does not wait for the commit (puback-gate.ts).
 */
export const MIN_SYNC_INTERVAL_MS = 5;

/**
 * Told how a batch it joined ended. A listener joins a batch once however many operations it
 * enlists in it (one Set entry), so a connection's QoS 1 messages cost no promise, closure or
 * reaction each: those made up most of what a message kept alive while its batch was written.
 */
export interface CommitListener {
  batchCommitted(batch: number): void;
  batchFailed(batch: number, err: unknown): void;
}

interface Deferred { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void }

/**
 * Group commit: callers hand in operations and wait; all operations that arrive while one synced
 * batch is being written go together into the next one. Durability then costs one fsync per batch,
 * not per message, and a caller learns of success only once its operations are on disk.
 * Operations nobody waits for (commitSoon) join the next batch, or start one after a short delay.
 *
 * Batches are numbered from 1 and end in that order. Waiting is per batch, not per caller: commit()
 * callers of one batch share its promise, join() callers are told through their listener.
 */
export class GroupCommit {
  private queued: BatchOp[] = [];
  /** The batch being gathered: someone waits for it (commit, join), or only commitSoon() fed it. */
  private urgent = false;
  private soft = false;
  private listeners = new Set<CommitListener>();
  private deferred: Deferred | undefined;
  /** Number of the batch being gathered. */
  private gathering = 1;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() when the last batch was started. */
  private lastStartedAt = Number.NEGATIVE_INFINITY;
  private readonly contributors: CommitContributor[] = [];
  /** Batches and operations written, for /metrics. */
  readonly counters = { batches: 0, ops: 0 };

  constructor(private readonly db: Db, private readonly softDelayMs = SOFT_COMMIT_DELAY_MS, private readonly minIntervalMs = MIN_SYNC_INTERVAL_MS) {}

  addContributor(c: CommitContributor): void { this.contributors.push(c); }

  /** Resolves when `ops` (and whatever contributors had pending) are synced. */
  commit(ops: BatchOp[]): Promise<void> {
    this.enqueue(ops);
    this.urgent = true;
    this.deferred ??= deferred();
    this.start();
    return this.deferred.promise;
  }

  /**
   * Like commit(), for the hot path: `listener` is told when the batch holding `ops` ends. Returns
   * that batch's number.
   */
  join(ops: BatchOp[], listener: CommitListener): number {
    this.enqueue(ops);
    this.urgent = true;
    this.listeners.add(listener);
    this.start();
    return this.gathering;
  }

  /**
   * Writes `ops` with the next batch, at the latest after SOFT_COMMIT_DELAY_MS; nobody waits. A
   * caller that must hear of a failed batch is a contributor: commitFailed() tells it once per batch
   * (the intake counts its messages that way).
   */
  commitSoon(ops: BatchOp[]): void {
    this.enqueue(ops);
    this.soft = true;
    if (!this.writing) this.arm();
  }

  /** Writes whatever is pending; used at shutdown and by periodic flushes. */
  async flush(): Promise<void> {
    await this.commit([]);
  }

  private enqueue(ops: BatchOp[]): void {
    for (const op of ops) this.queued.push(op);
  }

  private start(): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined; }
    if (!this.writing) this.writing = this.drain();
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => { this.timer = undefined; this.start(); }, this.softDelayMs);
    // Never what keeps a process alive: shutdown flushes explicitly.
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    // Let commit() store this promise in `writing` first: a drain with nothing to write would
    // otherwise finish synchronously, reset `writing` before it is assigned, and leave it set forever.
    await Promise.resolve();
    let first = true;
    while (this.urgent || this.soft) {
      // After the first batch, what only commitSoon() queued waits for its timer: bigger batches.
      if (!first && !this.urgent) break;
      first = false;
      // A loop: a timer can fire up to a millisecond early (libuv counts from the loop's cached
      // time), and then a second one waits out the rest, at least a millisecond. So batches start
      // one to two timer periods apart; with a 2 ms interval a single timer started them ~1.6 ms
      // apart, below it (bench/outbox-cost.ts, 2026-11-27).
      for (let wait = this.lastStartedAt + this.minIntervalMs - performance.now(); wait > 0;
        wait = this.lastStartedAt + this.minIntervalMs - performance.now()) {
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      this.lastStartedAt = performance.now();
      const batch = this.gathering;
      const ops = this.queued;
      const listeners = this.listeners;
      const waiting = this.deferred;
      this.gathering += 1;
      this.queued = [];
      this.urgent = false;
      this.soft = false;
      if (listeners.size > 0) this.listeners = new Set();
      this.deferred = undefined;
      for (const c of this.contributors) for (const op of c.pendingOps()) ops.push(op);
      let failure: { err: unknown } | undefined;
      try {
        if (ops.length > 0) {
          await this.db.batch(ops, { sync: true });
          this.counters.batches += 1;
          this.counters.ops += ops.length;
        }
      } catch (err) {
        failure = { err };
      }
      if (failure === undefined) {
        for (const c of this.contributors) c.committed?.();
        for (const l of listeners) try { l.batchCommitted(batch); } catch (e) { rethrowLater(e); }
        waiting?.resolve();
      } else {
        const { err } = failure;
        for (const c of this.contributors) c.commitFailed(err);
        for (const l of listeners) try { l.batchFailed(batch, err); } catch (e) { rethrowLater(e); }
        waiting?.reject(err);
      }
    }
    this.writing = undefined;
    if (this.soft) this.arm();
  }
}

/**
 * A listener that threw: its error may not stop the commit loop (every later caller would wait for
 * ever), so it surfaces as an uncaught exception, as a throwing promise callback's did when callers
 * waited on a promise each.
 */
function rethrowLater(err: unknown): void {
  queueMicrotask(() => { throw err; });
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}
