import type { Db, JsonSublevel } from '../store/store.js';
import type { Logger } from '../log.js';

interface CompactionState { deletes_since: number; last_at: string | null }

/**
 * Deleted keys below which a manual compaction is not worth the SD-card writes: LevelDB compacts by
 * itself as it writes, and rewriting the whole store to reclaim a few megabytes wears the card for
 * nothing. Past it (a big retention prune, a dropped outbox) the tombstones slow reads and hold space.
 */
export const COMPACT_MIN_DELETES = 10_000;
/** A prune this large is compacted right away rather than at the weekly slot. */
export const COMPACT_AFTER_PRUNE = 50_000;

/**
 * LevelDB compaction when worthwhile. Deletions made by retention are counted (in `meta`, so the count
 * survives restarts) and the `compaction` job compacts only once they pass COMPACT_MIN_DELETES.
 */
export class Compaction {
  private state: CompactionState | undefined;

  constructor(private readonly deps: { db: Db; meta: JsonSublevel<unknown>; log: Logger }) {}

  private async load(): Promise<CompactionState> {
    this.state ??= ((await this.deps.meta.get('compaction')) as CompactionState | undefined) ?? { deletes_since: 0, last_at: null };
    return this.state;
  }

  async noteDeleted(count: number): Promise<void> {
    if (count <= 0) return;
    const state = await this.load();
    state.deletes_since += count;
    await this.deps.meta.put('compaction', state);
  }

  /** The scheduled job: compacts only when enough was deleted since the last compaction. */
  async runIfWorthwhile(): Promise<{ compacted: boolean; deletes_since: number; ms?: number }> {
    const state = await this.load();
    if (state.deletes_since < COMPACT_MIN_DELETES) return { compacted: false, deletes_since: state.deletes_since };
    return this.compact('scheduled');
  }

  async compact(reason: string): Promise<{ compacted: boolean; deletes_since: number; ms?: number }> {
    const state = await this.load();
    const db = this.deps.db as unknown as Partial<Compactable>;
    if (typeof db.compactRange !== 'function') return { compacted: false, deletes_since: state.deletes_since };
    const t0 = performance.now();
    // Every key of the store sits in a sublevel, and sublevel keys start with "!" ("!use!…", "!out!…"),
    // so ["!", "\"") is the whole keyspace.
    await db.compactRange('!', '"');
    const ms = Math.round(performance.now() - t0);
    this.deps.log.info({ event: 'store_compacted', reason, deletes_since: state.deletes_since, ms }, `compacted the store after ${state.deletes_since} deletions (${ms} ms)`);
    const deletes = state.deletes_since;
    state.deletes_since = 0;
    state.last_at = new Date().toISOString();
    await this.deps.meta.put('compaction', state);
    return { compacted: true, deletes_since: deletes, ms };
  }
}

/** classic-level (LevelDB on Node) has compactRange; the `level` package's type does not declare it. */
interface Compactable { compactRange(start: string, end: string): Promise<void> }
