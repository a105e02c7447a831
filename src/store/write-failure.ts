import type { Level } from 'level';
import type { Logger } from '../log.js';

type WriteImpl = (...args: unknown[]) => Promise<unknown>;
/** A database or sublevel, as far as reopening goes. */
interface Reopenable { status: string; open(): Promise<void>; sublevel: (...args: unknown[]) => Reopenable }
/** The root database's write hooks (abstract-level's implementation API); sublevels write through them. */
const WRITES = ['_put', '_del', '_batch', '_clear'] as const;
/** How often a reopen that failed (the disk still full) is tried again. */
const REOPEN_RETRY_MS = 1_000;

/**
 * Recovery from a write that failed with an I/O error (a full disk, a failing SD card).
 *
 * LevelDB 1.20 does not stop after such a write: part of the record may have reached its log file, and
 * it appends the next records after the broken one. A later replay reads the broken record as damage
 * and drops it with the rest of its 32 KB block — records acknowledged after the disk had room again
 * among them (test/robustness/disk-full.test.ts) — and a failed background write makes it refuse every
 * later write until it is reopened. So after the first such failure no write reaches LevelDB any more
 * (they fail at once, and nothing is acknowledged), and the database is closed and opened again: the
 * broken record is then the torn end of the old log, which recovery drops (it was never acknowledged),
 * and writing goes on in a new log. While the disk is still full the reopen fails; it is retried every
 * second until it works, without a restart.
 */
export class WriteFailureRecovery {
  private failure: Error | undefined;
  private reopening: Promise<void> | undefined;
  private stopped = false;
  /**
   * Every sublevel made of this database, nested ones included, in the order they were made (a parent
   * before its children). Closing the database closes them, and abstract-level does not open them
   * again with it: the reopen does. Weak, so that a sublevel nobody holds is not kept for this.
   */
  private sublevels: Array<WeakRef<Reopenable>> = [];

  /** `changed` hears when writes stop (with the failure) and when they go on again (undefined). */
  constructor(private readonly db: Level<string, unknown>, private readonly log: Logger | undefined, private readonly changed: (failure: Error | undefined) => void = () => undefined) {
    this.track(db as unknown as Reopenable);
    const target = db as unknown as Record<(typeof WRITES)[number], WriteImpl>;
    for (const name of WRITES) {
      const write = target[name];
      const recovery = this;
      target[name] = async function guardedWrite(this: unknown, ...args: unknown[]): Promise<unknown> {
        const failure = recovery.failure;
        if (failure) throw Object.assign(new Error(`the store is recovering from a failed write (${failure.message}); nothing is written until it has been reopened`), { code: 'LEVEL_IO_ERROR' });
        try {
          return await write.apply(this, args);
        } catch (err) {
          if ((err as { code?: unknown }).code === 'LEVEL_IO_ERROR') recovery.failed(err as Error);
          throw err;
        }
      };
    }
  }

  /** Whether writes are refused now (between a failure and the reopen). */
  get recovering(): boolean { return this.failure !== undefined; }

  /** Resolves once a reopen in progress has finished or given up; no further reopen starts. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.reopening;
  }

  /** Records the sublevels `parent.sublevel()` makes from now on (and theirs). */
  private track(parent: Reopenable): void {
    const make = parent.sublevel;
    parent.sublevel = (...args: unknown[]): Reopenable => {
      const sub = make.apply(parent, args);
      if (this.sublevels.length > 1_000) this.sublevels = this.sublevels.filter((ref) => ref.deref() !== undefined);
      this.sublevels.push(new WeakRef(sub));
      this.track(sub);
      return sub;
    };
  }

  private failed(err: Error): void {
    if (this.failure || this.stopped) return;
    this.failure = err;
    this.log?.error({ event: 'store_write_failed', err: err.message },
      `a write to the store failed (${err.message}): no more writes until LevelDB has been reopened, which ends its log cleanly`);
    this.changed(err);
    this.reopening = this.reopen().finally(() => { this.reopening = undefined; });
  }

  private async reopen(): Promise<void> {
    const t0 = performance.now();
    let attempts = 0;
    const wereOpen = this.sublevels.map((ref) => ref.deref()).filter((sub): sub is Reopenable => sub?.status === 'open');
    while (!this.stopped) {
      attempts += 1;
      try {
        if (this.db.status === 'open') await this.db.close();
        await this.db.open();
        for (const sub of wereOpen) if (sub.status !== 'open') await sub.open();
        this.failure = undefined;
        this.log?.info({ event: 'store_reopened', attempts, ms: Math.round(performance.now() - t0) }, 'the store was reopened after a failed write; writes go on');
        this.changed(undefined);
        return;
      } catch (err) {
        if (attempts === 1) this.log?.warn({ event: 'store_reopen_failed', err: (err as Error).message }, `reopening the store failed (${(err as Error).message}); trying again every ${REOPEN_RETRY_MS / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, REOPEN_RETRY_MS));
      }
    }
  }
}
