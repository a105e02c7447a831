import type { JsonSublevel, Store } from '../store/store.js';
import type { BatchOp, CommitContributor } from '../store/group-commit.js';
import { PendingKeys } from '../store/pending-keys.js';
import type { Service } from '../lifecycle.js';
import { addUsage, countInto, dayOf, dayOfMs, emptyUsage, usageKey, type UsageCounters, type UsageKind } from './usage.js';
import { UsageJournal, type JournalRows } from './usage-journal.js';

/**
 * A commit folds the journal (writes the usage rows themselves) once this many records or this much
 * time have gone by since the last fold: rows on disk are at most seconds behind, and a replay after
 * a crash reads at most a few thousand small records.
 */
const FOLD_RECORDS = 2_000;
const FOLD_MS = 2_000;

/** What the batch being written holds of the meter's: a journal record, or a fold. */
type InFlight = { kind: 'record'; keys: readonly string[] } | { kind: 'fold'; upTo: number; keys: readonly string[] };

export interface UsageRow extends UsageCounters { date: string; device_id: string }

/**
 * Usage metering per device and day. Counters live in memory and are written as absolute values
 * inside the group commit that also stores the messages they count (src/store/group-commit.ts), so
 * an acknowledged message is never missing from them, also after a crash: as one journal record per
 * commit, folded into the rows every few seconds (src/metering/usage-journal.ts). Outbound counters
 * ride along with the next commit or the periodic flush.
 */
export class Meter implements Service, CommitContributor {
  readonly name = 'metering';
  private readonly db: JsonSublevel<UsageCounters>;
  /** Rows of the current month, keyed like the store (`day!device`). */
  private readonly rows = new Map<string, UsageCounters>();
  private readonly pending = new PendingKeys();
  /** Rows of a past month: they leave memory once a fold that wrote them is synced. */
  private readonly leaving = new Set<string>();
  private readonly journal: UsageJournal;
  /** Rows journaled since the last fold: the next fold writes them. */
  private readonly unfolded = new Set<string>();
  private inFlight: InFlight | undefined;
  private lastFoldAt = Date.now();
  /** The next batch folds, whatever the thresholds say (foldNext). */
  private foldRequested = false;
  private month = '';
  private readonly monthTotal = emptyUsage();
  /**
   * Each device's row key for the day it was last counted on: count() runs twice per message, and
   * building `day!device` anew made a fresh string to concatenate and hash every time.
   */
  private readonly keyOfDevice = new Map<string, string>();
  /** The day keyOfDevice is for: a new day starts it empty (so devices gone since do not linger). */
  private keysDay = '';

  constructor(private readonly deps: { store: Store; timeZone: string; now?: () => Date; fold?: { records: number; ms: number } }) {
    this.db = deps.store.json<UsageCounters>('usage');
    this.journal = new UsageJournal(deps.store, this.db);
  }

  private now(): Date { return this.deps.now ? this.deps.now() : new Date(); }
  /** Today, without making a Date per call when the real clock is used (this runs per message). */
  private today(): string {
    return this.deps.now ? dayOf(this.deps.now(), this.deps.timeZone) : dayOfMs(Date.now(), this.deps.timeZone);
  }

  async start(): Promise<void> {
    await this.journal.recover();
    await this.loadMonth(dayOf(this.now(), this.deps.timeZone).slice(0, 7));
  }

  /** Folds what is left (the broker has stopped and written its last commit). */
  async stop(): Promise<void> {
    const rows = this.rowsOf(new Set([...this.unfolded, ...this.pending.take()]));
    this.pending.landed();
    // Nothing counted since the last fold: no write at all (a start that failed on a damaged store
    // stops the meter too, and must leave the files as they were).
    if (rows.size === 0 && this.journal.unfoldedRecords === 0) return;
    const fold = this.journal.fold(rows);
    await this.deps.store.raw.batch(fold.ops, { sync: true });
    this.unfolded.clear();
    await this.journal.folded(fold.upTo);
  }

  /**
   * Loads the month's rows into memory; called at start and when the calendar month turns. A row in
   * memory is at least as new as the one on disk (newer counts may be in the journal or not written
   * yet), so it is kept; rows of other months stay only until they are written.
   */
  async loadMonth(month: string): Promise<void> {
    const loaded = new Map<string, UsageCounters>();
    for await (const [key, value] of this.db.iterator({ gte: `${month}-`, lt: `${month}-~` })) loaded.set(key, value);
    // From here on synchronously, so that no count slips in between.
    for (const [key, row] of this.rows) if (key.startsWith(month)) loaded.set(key, row);
    this.letGoOfOtherMonths(month);
    for (const [key, row] of loaded) this.rows.set(key, row);
    this.month = month;
    Object.assign(this.monthTotal, emptyUsage());
    for (const [key, row] of this.rows) if (key.startsWith(month)) addUsage(this.monthTotal, row);
  }

  /** The next group commit writes the usage rows themselves (the daily roll-up, the month turn). */
  foldNext(): void { this.foldRequested = true; }

  /** Today; when the calendar month has turned since the last call, the totals roll over first. */
  private currentDay(): string {
    const day = this.today();
    if (this.month === '' || !day.startsWith(this.month)) this.rollMonth(day.slice(0, 7));
    return day;
  }

  /** Counts one message (or one refusal). Synchronous: the next group commit persists it. */
  count(deviceId: string, kind: UsageKind, bytes: number): void {
    const day = this.currentDay();
    if (day !== this.keysDay) { this.keyOfDevice.clear(); this.keysDay = day; }
    let key = this.keyOfDevice.get(deviceId);
    if (key === undefined) { key = usageKey(day, deviceId); this.keyOfDevice.set(deviceId, key); }
    let row = this.rows.get(key);
    if (!row) { row = emptyUsage(); this.rows.set(key, row); }
    // No delta object: this runs for every message in and every delivery out.
    countInto(row, kind, bytes);
    countInto(this.monthTotal, kind, bytes);
    this.pending.mark(key);
  }

  /**
   * Month turned while running: rows of the old month stay on disk; totals start from zero. A row
   * that has not reached disk yet (changed, or in a batch still being written) stays in memory until
   * a batch holding it is synced, so a failed batch at the turn of the month loses no counts.
   */
  private rollMonth(month: string): void {
    this.letGoOfOtherMonths(month);
    this.month = month;
    Object.assign(this.monthTotal, emptyUsage());
  }

  /** Rows of months other than `month` stay in memory (as leaving) only until they are written. */
  private letGoOfOtherMonths(month: string): void {
    for (const key of this.rows.keys()) {
      if (key.startsWith(month)) continue;
      if (this.pending.holds(key) || this.unfolded.has(key)) this.leaving.add(key);
      else this.rows.delete(key);
    }
  }

  pendingOps(): BatchOp[] {
    const keys = this.pending.take();
    for (const key of keys) if (!key.startsWith(this.month)) this.leaving.add(key);
    const fold = this.deps.fold ?? { records: FOLD_RECORDS, ms: FOLD_MS };
    const foldDue = this.foldRequested || this.journal.unfoldedRecords >= fold.records || (this.unfolded.size > 0 && Date.now() - this.lastFoldAt >= fold.ms);
    if (foldDue) {
      this.foldRequested = false;
      const all = new Set([...this.unfolded, ...keys]);
      const folding = this.journal.fold(this.rowsOf(all));
      this.inFlight = { kind: 'fold', upTo: folding.upTo, keys: [...all] };
      return folding.ops;
    }
    this.inFlight = undefined;
    if (keys.length === 0) return [];
    const rows: JournalRows = [];
    for (const key of keys) {
      const row = this.rows.get(key);
      if (row) rows.push([key, { ...row }]);
    }
    this.inFlight = { kind: 'record', keys };
    return [this.journal.record(rows).op];
  }

  committed(): void {
    this.pending.landed();
    const done = this.inFlight;
    this.inFlight = undefined;
    if (done?.kind === 'record') for (const key of done.keys) this.unfolded.add(key);
    if (done?.kind !== 'fold') return;
    for (const key of done.keys) if (!this.pending.has(key)) this.unfolded.delete(key);
    this.lastFoldAt = Date.now();
    // Rows of a past month were kept only until written.
    for (const key of this.leaving) {
      if (!this.pending.has(key) && !this.unfolded.has(key)) { this.rows.delete(key); this.leaving.delete(key); }
    }
    // Unsynced: a record a crash leaves behind is at or below the fold mark, and skipped.
    this.journal.folded(done.upTo).catch(() => undefined);
  }

  commitFailed(): void {
    if (this.inFlight?.kind === 'fold') this.foldRequested = true;
    this.inFlight = undefined;
    this.pending.restore((key) => this.rows.has(key));
  }

  private rowsOf(keys: ReadonlySet<string>): Map<string, UsageCounters> {
    const rows = new Map<string, UsageCounters>();
    for (const key of keys) {
      const row = this.rows.get(key);
      if (row) rows.set(key, row);
    }
    return rows;
  }

  /** The calendar month (YYYY-MM) the in-memory totals are for. */
  get currentMonth(): string { return this.month; }

  /** Messages and bytes (in + out) of the current calendar month, for /quota. */
  monthUsage(): { messages: number; bytes: number } {
    this.currentDay();
    return { messages: this.monthTotal.messages_in + this.monthTotal.messages_out, bytes: this.monthTotal.bytes_in + this.monthTotal.bytes_out };
  }

  /** Per-day rows between two days inclusive (YYYY-MM-DD), optionally for one device. */
  async usage(startDate: string, endDate: string, deviceId?: string): Promise<UsageRow[]> {
    const merged = new Map<string, UsageCounters>();
    for await (const [key, value] of this.db.iterator({ gte: `${startDate}!`, lt: `${endDate}!~` })) merged.set(key, value);
    // In-memory rows are at least as new as the stored ones.
    for (const [key, value] of this.rows) if (key >= `${startDate}!` && key < `${endDate}!~`) merged.set(key, value);
    const out: UsageRow[] = [];
    for (const [key, value] of merged) {
      const [date, device] = key.split('!') as [string, string];
      if (deviceId === undefined || device === deviceId) out.push({ date, device_id: device, ...value });
    }
    return out.sort((a, b) => a.date.localeCompare(b.date) || a.device_id.localeCompare(b.device_id));
  }

  /** Counters of one device in the current calendar month, for GET /devices/{id}. */
  deviceMonth(deviceId: string): UsageCounters {
    const total = emptyUsage();
    const suffix = `!${deviceId}`;
    // Rows of the month before may still be in memory until their last batch is synced.
    for (const [key, row] of this.rows) if (key.endsWith(suffix) && key.startsWith(this.month)) addUsage(total, row);
    return total;
  }

  /**
   * Today's counters of one device with a single lookup (deviceMonth scans the month): the
   * dashboard's event stream reads it every 2 s for the device page being watched.
   */
  deviceToday(deviceId: string): UsageCounters {
    const row = this.rows.get(usageKey(dayOf(this.now(), this.deps.timeZone), deviceId));
    return row ? { ...row } : emptyUsage();
  }

  /** Deletes usage rows older than `keepDays` days; returns how many went. */
  async prune(keepDays: number): Promise<number> {
    const cutoff = dayOf(new Date(this.now().getTime() - keepDays * 86_400_000), this.deps.timeZone);
    const keys: string[] = [];
    for await (const key of this.db.keys({ lt: `${cutoff}!` })) keys.push(key);
    if (keys.length > 0) await this.db.batch(keys.map((key) => ({ type: 'del' as const, key })));
    return keys.length;
  }
}
