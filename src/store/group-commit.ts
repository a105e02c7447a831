import type { AbstractBatchOperation } from 'abstract-level';
import type { Db } from './store.js';

export type BatchOp = AbstractBatchOperation<Db, string, unknown>;

/** Something that has state to persist along with every group commit (e.g. usage counters). */
export interface CommitContributor {
  pendingOps(): BatchOp[];
  /** The batch holding this contributor's last pendingOps() failed: mark them pending again. */
  commitFailed(): void;
  /** The batch holding this contributor's last pendingOps() (and what was queued with them) is synced. */
  committed?(): void;
}

/**
 * Group commit: callers hand in operations and wait; all operations that arrive while one synced
 * batch is being written go together into the next one. Durability then costs one fsync per batch,
 * not per message, and a caller's promise resolves only once its operations are on disk.
 */
export class GroupCommit {
  private queued: BatchOp[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private writing: Promise<void> | undefined;
  private readonly contributors: CommitContributor[] = [];
  /** Batches and operations written, for /metrics. */
  readonly counters = { batches: 0, ops: 0 };

  constructor(private readonly db: Db) {}

  addContributor(c: CommitContributor): void { this.contributors.push(c); }

  /** Resolves when `ops` (and whatever contributors had pending) are synced. */
  commit(ops: BatchOp[]): Promise<void> {
    for (const op of ops) this.queued.push(op);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.writing) this.writing = this.drain();
    return done;
  }

  /** Writes whatever is pending; used at shutdown and by periodic flushes. */
  async flush(): Promise<void> {
    await this.commit([]);
  }

  private async drain(): Promise<void> {
    // Let commit() store this promise in `writing` first: a drain with nothing to write would
    // otherwise finish synchronously, reset `writing` before it is assigned, and leave it set forever.
    await Promise.resolve();
    while (this.waiters.length > 0) {
      const ops = this.queued;
      const waiters = this.waiters;
      this.queued = [];
      this.waiters = [];
      for (const c of this.contributors) for (const op of c.pendingOps()) ops.push(op);
      try {
        if (ops.length > 0) {
          await this.db.batch(ops, { sync: true });
          this.counters.batches += 1;
          this.counters.ops += ops.length;
        }
        for (const c of this.contributors) c.committed?.();
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const c of this.contributors) c.commitFailed();
        for (const w of waiters) w.reject(err);
      }
    }
    this.writing = undefined;
  }
}
