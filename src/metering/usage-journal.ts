import type { JsonSublevel, Store } from '../store/store.js';
import { SYNC } from '../store/store.js';
import type { BatchOp } from '../store/group-commit.js';
import type { UsageCounters } from './usage.js';

/** A journal record: the usage rows a group commit changed, as absolute values. */
export type JournalRows = Array<[key: string, counters: UsageCounters]>;

const RECORD = 'meter!journal!';
const FOLDED = 'meter!folded';

function recordKey(n: number): string { return RECORD + n.toString(16).padStart(16, '0'); }

/**
 * The usage meter's journal (sublevel `state`). A QoS 1 message's counters must be on disk before
 * its PUBACK, in the group commit that stores the message; writing every changed usage row in every
 * commit made that one LevelDB operation per busy device per commit (with 50 busy devices about one
 * per message). Instead each commit writes one journal record holding the rows it changed, and every
 * few seconds a commit folds them: it writes the rows themselves and `meter!folded` (the last record
 * they cover) in one batch. Records are absolute values, so replaying those after `folded` in order,
 * last one winning, rebuilds the rows after a crash (`recover`, at start). Folded records are deleted
 * afterwards; one left behind by a crash is skipped, being at or below `folded`.
 */
export class UsageJournal {
  private lastRecord = 0;
  private foldedUpTo = 0;
  /** Records up to here are deleted (the lower bound of the next delete: no walk over old tombstones). */
  private deletedUpTo = 0;
  private readonly state: JsonSublevel<unknown>;

  constructor(private readonly store: Store, private readonly usage: JsonSublevel<UsageCounters>) {
    this.state = store.json<unknown>('state');
  }

  /**
   * Replays the records a crash left unfolded into the usage rows (synced), then deletes them.
   * `totalsFor` gives the totals rows the replayed rows change (read before they are written); they
   * go in the same batch, so that a crash in between cannot leave rows and totals apart.
   */
  async recover(totalsFor: (rows: ReadonlyMap<string, UsageCounters>) => Promise<ReadonlyMap<string, UsageCounters>>): Promise<void> {
    this.foldedUpTo = Number((await this.state.get(FOLDED)) ?? 0);
    this.lastRecord = this.foldedUpTo;
    const rows = new Map<string, UsageCounters>();
    for await (const [key, value] of this.state.iterator({ gt: recordKey(this.foldedUpTo), lt: `${RECORD}~` })) {
      for (const [rowKey, counters] of value as JournalRows) rows.set(rowKey, counters);
      this.lastRecord = Math.max(this.lastRecord, Number.parseInt(key.slice(RECORD.length), 16));
    }
    // Nothing to replay: no write at all (a start that finds a damaged store must leave it as it was).
    if (rows.size === 0) return;
    for (const [key, total] of await totalsFor(rows)) rows.set(key, total);
    await this.store.raw.batch(this.foldOps(rows), SYNC);
    this.foldedUpTo = this.lastRecord;
    await this.deleteFolded();
  }

  /** Records written since the last fold. */
  get unfoldedRecords(): number { return this.lastRecord - this.foldedUpTo; }

  /** The operation that journals these rows; `landed(n)` once its batch is synced. */
  record(rows: JournalRows): { op: BatchOp; n: number } {
    this.lastRecord += 1;
    return { op: { type: 'put', sublevel: this.state, key: recordKey(this.lastRecord), value: rows } as unknown as BatchOp, n: this.lastRecord };
  }

  /**
   * The rows themselves and the mark that every record so far is in them. Its batch must hold the
   * current value of every row journaled since the last fold. `folded(upTo)` once it is synced.
   */
  fold(rows: ReadonlyMap<string, UsageCounters>): { ops: BatchOp[]; upTo: number } {
    return { ops: this.foldOps(rows), upTo: this.lastRecord };
  }

  /** A fold's batch is synced: the records it covers can go (unsynced: a crash only leaves them to skip). */
  folded(upTo: number): Promise<void> {
    this.foldedUpTo = Math.max(this.foldedUpTo, upTo);
    return this.deleteFolded();
  }

  private foldOps(rows: ReadonlyMap<string, UsageCounters>): BatchOp[] {
    const ops: BatchOp[] = [];
    for (const [key, counters] of rows) ops.push({ type: 'put', sublevel: this.usage, key, value: { ...counters } } as unknown as BatchOp);
    ops.push({ type: 'put', sublevel: this.state, key: FOLDED, value: this.lastRecord } as unknown as BatchOp);
    return ops;
  }

  private async deleteFolded(): Promise<void> {
    const upTo = this.foldedUpTo;
    if (upTo <= this.deletedUpTo) return;
    // The first delete of a run starts at the first record: it also takes any a crash left behind.
    await this.state.clear(this.deletedUpTo === 0 ? { gte: RECORD, lte: recordKey(upTo) } : { gt: recordKey(this.deletedUpTo), lte: recordKey(upTo) });
    this.deletedUpTo = upTo;
  }
}
