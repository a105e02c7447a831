import type { AbstractBatchOperation, AbstractBatchOptions, AbstractLevel, AbstractSublevel } from 'abstract-level';

/**
 * The database handed to the persistence: an abstract-level database or sublevel (classic-level via
 * `level`) with string keys and any default value type `V` — generic because `V` appears both in
 * and out of its methods, so e.g. a Buffer-valued sublevel is not an `unknown`-valued one.
 */
export type PersistenceDb<V = unknown> = AbstractLevel<string | Buffer | Uint8Array, string, V>;
/** A nested sublevel of it, with its own (explicit) value encoding `T`. */
export type Sublevel<V, T> = AbstractSublevel<PersistenceDb<V>, string | Buffer | Uint8Array, string, T>;
/** A write to one of the nested sublevels, committed through the parent (operation's `sublevel`). */
export type BatchOp<V> = AbstractBatchOperation<PersistenceDb<V>, string, unknown>;

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

type Task<V> =
  | { kind: 'batch'; ops: BatchOp<V>[]; waiter: Waiter }
  | { kind: 'run'; run: () => Promise<void>; waiter: Waiter };

/**
 * Applies writes strictly in the order they were requested.
 *
 * The persistence updates its in-memory indexes synchronously and writes behind them. classic-level
 * runs each write on the libuv thread pool, so two writes issued back to back (say an outgoingUpdate
 * put and the outgoingClearMessageId del of the same key) can reach LevelDB in either order. This
 * queue serialises them; writes that arrive while a batch is in flight are grouped into the next
 * batch (group commit), so ordering costs little throughput. Range deletes (`run`) take their turn
 * in the same sequence. `barrier()` resolves once everything requested before it is on disk, which
 * is how reads see the writes that preceded them.
 */
export class WriteQueue<V> {
  readonly #db: PersistenceDb<V>;
  readonly #options: AbstractBatchOptions<string, unknown> & { sync?: boolean };
  #tasks: Task<V>[] = [];
  #draining = false;
  #closed = false;

  constructor(db: PersistenceDb<V>, sync: boolean) {
    this.#db = db;
    // `sync` is a classic-level batch option (abstract-level's type does not list it); sublevels
    // forward options to the root database.
    this.#options = { sync };
  }

  batch(ops: BatchOp<V>[]): Promise<void> {
    return this.#push((waiter) => ({ kind: 'batch', ops, waiter }));
  }

  /** Runs `run` (e.g. a sublevel range clear) after every write requested before it. */
  run(run: () => Promise<void>): Promise<void> {
    return this.#push((waiter) => ({ kind: 'run', run, waiter }));
  }

  barrier(): Promise<void> {
    return this.batch([]);
  }

  /** Refuses further writes; resolves when the writes already requested are done. */
  async close(): Promise<void> {
    const done = this.barrier();
    this.#closed = true;
    await done;
  }

  #push(make: (waiter: Waiter) => Task<V>): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('LevelPersistence has been destroyed'));
    return new Promise<void>((resolve, reject) => {
      this.#tasks.push(make({ resolve, reject }));
      if (!this.#draining) {
        this.#draining = true;
        // Start on a microtask so writes requested in the same tick share the first batch.
        queueMicrotask(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    while (this.#tasks.length > 0) {
      const head = this.#tasks[0];
      if (head?.kind === 'run') {
        this.#tasks.shift();
        try {
          await head.run();
          head.waiter.resolve();
        } catch (err) {
          head.waiter.reject(err);
        }
        continue;
      }
      const group: Waiter[] = [];
      const ops: BatchOp<V>[] = [];
      while (this.#tasks[0]?.kind === 'batch') {
        const task = this.#tasks.shift();
        if (task?.kind !== 'batch') break;
        group.push(task.waiter);
        for (const op of task.ops) ops.push(op);
      }
      try {
        if (ops.length > 0) await this.#db.batch(ops, this.#options);
        for (const w of group) w.resolve();
      } catch (err) {
        for (const w of group) w.reject(err);
      }
    }
    this.#draining = false;
  }
}
