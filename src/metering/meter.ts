import type { JsonSublevel, Store } from '../store/store.js';
import type { BatchOp, CommitContributor } from '../store/group-commit.js';
import { PendingKeys } from '../store/pending-keys.js';
import { UNCACHED, scanEntries } from '../store/scan.js';
import type { Service } from '../lifecycle.js';
import { DAY_TOTAL_PREFIX, addUsage, countInto, dayOf, dayOfMs, dayTotalKey, emptyUsage, monthTotalKey, totalKeysOf, usageKey, type UsageCounters, type UsageKind } from './usage.js';
import { totalsTouchedBy } from './usage-totals.js';
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

/** Where count() adds a device's message today: its row of the day and its total of the month. */
interface DaySlot { key: string; row: UsageCounters; month: UsageCounters }

/**
 * Usage metering per device and day. Counters live in memory and are written as absolute values
 * inside the group commit that also stores the messages they count (src/store/group-commit.ts), so
 * an acknowledged message is never missing from them, also after a crash: as one journal record per
 * commit, folded into the rows every few seconds (src/metering/usage-journal.ts). Outbound counters
 * ride along with the next commit or the periodic flush.
 *
 * Memory holds today's rows and each device's total of the month, not the month's rows: those grow
 * by one per device and day (5,000 devices at the end of a month: 150,000 rows, about 30 MB of heap).
 * A row of an earlier day leaves memory once it is on disk. The totals are stored as rows of their
 * own (a device's month, a day's over every device: src/metering/usage.ts), written with the rows
 * they sum, so that a start reads one row per device and not the month's, and every device's usage
 * of a range is one row per day. The day never goes back: when the clock steps back over midnight,
 * counting goes on in the latest day's rows, because an earlier day's row may have left memory, and
 * counting on from zero would overwrite its stored value.
 */
export class Meter implements Service, CommitContributor {
  readonly name = 'metering';
  private readonly db: JsonSublevel<UsageCounters>;
  /**
   * Rows keyed like the store (`day!device`): today's (and those of later days found at start, see
   * load()), and rows of earlier days until they are on disk.
   */
  private readonly rows = new Map<string, UsageCounters>();
  /**
   * Totals rows by store key: the current month's of each device, today's over every device, and
   * those of an earlier day or month until the rows they sum are on disk (pastTotals).
   */
  private readonly totals = new Map<string, UsageCounters>();
  /** Today's counters over every device (the object of its `~d!` totals row). */
  private dayTotal = emptyUsage();
  /** Totals rows of an earlier day or month: they leave memory with the last rows they sum. */
  private readonly pastTotals = new Set<string>();
  private readonly pending = new PendingKeys();
  /** Rows of an earlier day: they leave memory once a fold that wrote them is synced. */
  private readonly leaving = new Set<string>();
  private readonly journal: UsageJournal;
  /** Rows journaled since the last fold: the next fold writes them. */
  private readonly unfolded = new Set<string>();
  private inFlight: InFlight | undefined;
  private lastFoldAt = Date.now();
  /** The next batch folds, whatever the thresholds say (foldNext). */
  private foldRequested = false;
  private month = '';
  /** The latest day counted on (YYYY-MM-DD); '' before start. */
  private day = '';
  private readonly monthTotal = emptyUsage();
  /**
   * Each device's row and month total for `day`, found with one lookup: count() runs twice per
   * message, and building `day!device` anew made a fresh string to concatenate and hash every time.
   * A new day starts it empty (so devices gone since do not linger).
   */
  private readonly slots = new Map<string, DaySlot>();

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
    // A replayed row changes the totals it belongs to: they are summed anew and written with it.
    await this.journal.recover((rows) => totalsTouchedBy(this.db, rows));
    await this.load(dayOf(this.now(), this.deps.timeZone));
  }

  /** Folds what is left (the broker has stopped and written its last commit). */
  async stop(): Promise<void> {
    const rows = this.foldRowsOf(new Set([...this.unfolded, ...this.pending.take()]));
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
   * At start (nothing is counted yet; the journal is replayed, so the disk has every row and total):
   * each device's total of `today`'s month, and the rows and day totals of today and of any later
   * day of the month (a run before this one may have had a clock ahead of this one's), which
   * counting goes on from. The reads do not fill LevelDB's block cache: what they read is kept here.
   */
  private async load(today: string): Promise<void> {
    const month = today.slice(0, 7);
    this.totals.clear();
    Object.assign(this.monthTotal, emptyUsage());
    this.month = month;
    this.day = today;
    const monthPrefix = monthTotalKey(month, '');
    await scanEntries(this.db.iterator({ gte: monthPrefix, lt: `${monthPrefix}~`, ...UNCACHED }), (key, total) => {
      this.totals.set(key, total);
      addUsage(this.monthTotal, total);
    });
    await scanEntries(this.db.iterator({ gte: `${today}!`, lt: `${month}-~`, ...UNCACHED }), (key, row) => { this.rows.set(key, row); });
    await scanEntries(this.db.iterator({ gte: dayTotalKey(today), lt: dayTotalKey(`${month}-~`), ...UNCACHED }), (key, total) => { this.totals.set(key, total); });
    this.dayTotal = this.dayTotalOf(today);
  }

  /** The month total of a device, made on first use. */
  private totalOf(deviceId: string): UsageCounters {
    const key = monthTotalKey(this.month, deviceId);
    let total = this.totals.get(key);
    if (!total) { total = emptyUsage(); this.totals.set(key, total); }
    return total;
  }

  /** The total of a day over every device, made on first use. */
  private dayTotalOf(day: string): UsageCounters {
    const key = dayTotalKey(day);
    let total = this.totals.get(key);
    if (!total) { total = emptyUsage(); this.totals.set(key, total); }
    return total;
  }

  /**
   * Brings the meter to the clock's day and month, as the next count would: the quota_reset job
   * starts the new month with it when no message has done so yet.
   */
  advance(): void { this.currentDay(); }

  /** The next group commit writes the usage rows themselves (the daily roll-up, the month turn). */
  foldNext(): void { this.foldRequested = true; }

  /** The day counts go to: the clock's, unless the clock is behind the latest day counted on. */
  private currentDay(): string {
    const day = this.today();
    if (day > this.day) this.turnDay(day);
    return this.day;
  }

  /** Counts one message (or one refusal). Synchronous: the next group commit persists it. */
  count(deviceId: string, kind: UsageKind, bytes: number): void {
    const day = this.currentDay();
    const slot = this.slots.get(deviceId) ?? this.openSlot(day, deviceId);
    // No delta object: this runs for every message in and every delivery out.
    countInto(slot.row, kind, bytes);
    countInto(slot.month, kind, bytes);
    countInto(this.dayTotal, kind, bytes);
    countInto(this.monthTotal, kind, bytes);
    this.pending.mark(slot.key);
  }

  private openSlot(day: string, deviceId: string): DaySlot {
    const key = usageKey(day, deviceId);
    let row = this.rows.get(key);
    if (!row) { row = emptyUsage(); this.rows.set(key, row); }
    const slot = { key, row, month: this.totalOf(deviceId) };
    this.slots.set(deviceId, slot);
    return slot;
  }

  /**
   * A new day: rows of earlier days stay on disk, and in memory only until they are written: a row
   * that has not reached disk yet (changed, or in a batch still being written) stays until a batch
   * holding it is synced, so a failed batch at midnight loses no counts. A new month also starts
   * the month's totals from zero.
   */
  private turnDay(day: string): void {
    const month = day.slice(0, 7);
    if (month !== this.month) {
      const ended = monthTotalKey(this.month, '');
      for (const key of this.totals.keys()) if (key.startsWith(ended)) this.pastTotals.add(key);
      this.month = month;
      Object.assign(this.monthTotal, emptyUsage());
    }
    if (this.day !== '') this.pastTotals.add(dayTotalKey(this.day));
    this.day = day;
    this.dayTotal = this.dayTotalOf(day);
    this.slots.clear();
    for (const key of this.rows.keys()) {
      if (key >= day) continue;
      if (this.pending.holds(key) || this.unfolded.has(key)) this.leaving.add(key);
      else this.rows.delete(key);
    }
    this.letGoOfPastTotals();
  }

  /**
   * Totals of an earlier day or month leave memory once no row of an earlier day is left to write:
   * the fold that wrote the last of those rows wrote their totals too, final by then.
   */
  private letGoOfPastTotals(): void {
    if (this.leaving.size > 0) return;
    for (const key of this.pastTotals) this.totals.delete(key);
    this.pastTotals.clear();
  }

  pendingOps(): BatchOp[] {
    const keys = this.pending.take();
    for (const key of keys) if (key < this.day) this.leaving.add(key);
    const fold = this.deps.fold ?? { records: FOLD_RECORDS, ms: FOLD_MS };
    const foldDue = this.foldRequested || this.journal.unfoldedRecords >= fold.records || (this.unfolded.size > 0 && Date.now() - this.lastFoldAt >= fold.ms);
    if (foldDue) {
      this.foldRequested = false;
      const all = new Set([...this.unfolded, ...keys]);
      const folding = this.journal.fold(this.foldRowsOf(all));
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
    // Rows of an earlier day were kept only until written.
    for (const key of this.leaving) {
      if (!this.pending.has(key) && !this.unfolded.has(key)) { this.rows.delete(key); this.leaving.delete(key); }
    }
    this.letGoOfPastTotals();
    // Unsynced: a record a crash leaves behind is at or below the fold mark, and skipped.
    this.journal.folded(done.upTo).catch(() => undefined);
  }

  commitFailed(): void {
    if (this.inFlight?.kind === 'fold') this.foldRequested = true;
    this.inFlight = undefined;
    this.pending.restore((key) => this.rows.has(key));
  }

  /** What a fold writes for these rows: their current values and those of the totals they belong to. */
  private foldRowsOf(keys: ReadonlySet<string>): Map<string, UsageCounters> {
    const rows = new Map<string, UsageCounters>();
    for (const key of keys) {
      const row = this.rows.get(key);
      if (!row) continue;
      rows.set(key, row);
      for (const totalKey of totalKeysOf(key)) {
        const total = this.totals.get(totalKey);
        if (total) rows.set(totalKey, total);
      }
    }
    return rows;
  }

  /** How many usage rows are in memory: today's, and earlier days' until they are written. */
  get rowsHeld(): number { return this.rows.size; }

  /** The calendar month (YYYY-MM) the in-memory totals are for. */
  get currentMonth(): string { return this.month; }

  /** Messages and bytes (in + out) of the current calendar month, for /quota. */
  monthUsage(): { messages: number; bytes: number } {
    this.currentDay();
    return { messages: this.monthTotal.messages_in + this.monthTotal.messages_out, bytes: this.monthTotal.bytes_in + this.monthTotal.bytes_out };
  }

  /**
   * Per-day rows between two days inclusive (YYYY-MM-DD), optionally for one device. Rows are keyed
   * day first, so one device's rows are read by key, a day at a time, not by a walk over every
   * device's rows of the range; neither read fills LevelDB's block cache (an API query, not a
   * working set).
   */
  async usage(startDate: string, endDate: string, deviceId?: string): Promise<UsageRow[]> {
    const merged = new Map<string, UsageCounters>();
    // In-memory rows are at least as new as the stored ones.
    if (deviceId === undefined) {
      await scanEntries(this.db.iterator({ gte: `${startDate}!`, lt: `${endDate}!~`, ...UNCACHED }), (key, value) => { merged.set(key, value); });
      for (const [key, value] of this.rows) if (key >= `${startDate}!` && key < `${endDate}!~`) merged.set(key, value);
    } else {
      const keys = daysBetween(startDate, endDate).map((day) => usageKey(day, deviceId));
      const values = await this.db.getMany(keys, UNCACHED);
      keys.forEach((key, i) => { const value = this.rows.get(key) ?? values[i]; if (value !== undefined) merged.set(key, value); });
    }
    const out: UsageRow[] = [];
    for (const [key, value] of merged) {
      const [date, device] = key.split('!') as [string, string];
      out.push({ date, device_id: device, ...value });
    }
    return out.sort((a, b) => a.date.localeCompare(b.date) || a.device_id.localeCompare(b.device_id));
  }

  /**
   * Counters of each day between two days inclusive (YYYY-MM-DD) over every device, from the day
   * totals rows: one row a day, whatever the number of devices. Days without any count are left out.
   */
  async dailyTotals(startDate: string, endDate: string): Promise<Array<UsageCounters & { date: string }>> {
    const byDay = new Map<string, UsageCounters>();
    await scanEntries(this.db.iterator({ gte: dayTotalKey(startDate), lte: dayTotalKey(endDate), ...UNCACHED }), (key, total) => { byDay.set(key, total); });
    // In-memory totals are at least as new as the stored ones.
    for (const day of daysBetween(startDate, endDate)) {
      const total = this.totals.get(dayTotalKey(day));
      if (total) byDay.set(dayTotalKey(day), total);
    }
    return [...byDay.entries()]
      .filter(([, total]) => Object.values(total).some((n) => n !== 0))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, total]) => ({ date: key.slice(DAY_TOTAL_PREFIX.length), ...total }));
  }

  /** Counters of one device in the current calendar month, for GET /devices/{id}. */
  deviceMonth(deviceId: string): UsageCounters {
    this.currentDay();
    const total = this.totals.get(monthTotalKey(this.month, deviceId));
    return total ? { ...total } : emptyUsage();
  }

  /** Today's counters of one device: the dashboard's event stream reads them every 2 s for the device page being watched. */
  deviceToday(deviceId: string): UsageCounters {
    const row = this.rows.get(usageKey(this.currentDay(), deviceId));
    return row ? { ...row } : emptyUsage();
  }

  /** Deletes usage rows older than `keepDays` days; returns how many went. */
  async prune(keepDays: number): Promise<number> {
    const cutoff = dayOf(new Date(this.now().getTime() - keepDays * 86_400_000), this.deps.timeZone);
    const keys: string[] = [];
    for await (const key of this.db.keys({ lt: `${cutoff}!`, ...UNCACHED })) keys.push(key);
    const rows = keys.length;
    // With them, the totals of those days, and of the months that ended before the cutoff's.
    for await (const key of this.db.keys({ gte: dayTotalKey(''), lt: dayTotalKey(cutoff), ...UNCACHED })) keys.push(key);
    for await (const key of this.db.keys({ gte: monthTotalKey('', ''), lt: monthTotalKey(cutoff.slice(0, 7), ''), ...UNCACHED })) keys.push(key);
    if (keys.length > 0) await this.db.batch(keys.map((key) => ({ type: 'del' as const, key })));
    return rows;
  }
}

/** Every day from `start` to `end` inclusive (YYYY-MM-DD), by calendar arithmetic on the dates themselves. */
function daysBetween(start: string, end: string): string[] {
  const days: string[] = [];
  for (let ms = Date.parse(`${start}T00:00:00Z`), last = Date.parse(`${end}T00:00:00Z`); ms <= last; ms += 86_400_000) {
    days.push(new Date(ms).toISOString().slice(0, 10));
  }
  return days;
}
