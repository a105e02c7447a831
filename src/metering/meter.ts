import type { JsonSublevel, Store } from '../store/store.js';
import type { BatchOp, CommitContributor } from '../store/group-commit.js';
import { PendingKeys } from '../store/pending-keys.js';
import type { Service } from '../lifecycle.js';
import { addUsage, countInto, dayOf, dayOfMs, emptyUsage, usageKey, type UsageCounters, type UsageKind } from './usage.js';

export interface UsageRow extends UsageCounters { date: string; device_id: string }

/**
 * Usage metering per device and day. Counters live in memory and are written as absolute values
 * inside the group commit that also stores the messages they count (src/store/group-commit.ts), so
 * an acknowledged message is never missing from them, also after a crash. Outbound counters ride
 * along with the next commit or the periodic flush.
 */
export class Meter implements Service, CommitContributor {
  readonly name = 'metering';
  private readonly db: JsonSublevel<UsageCounters>;
  /** Rows of the current month, keyed like the store (`day!device`). */
  private readonly rows = new Map<string, UsageCounters>();
  private readonly pending = new PendingKeys();
  /** Rows of a past month in the batch being written: they leave memory once it is synced. */
  private leaving: string[] = [];
  private month = '';
  private readonly monthTotal = emptyUsage();

  constructor(private readonly deps: { store: Store; timeZone: string; now?: () => Date }) {
    this.db = deps.store.json<UsageCounters>('usage');
  }

  private now(): Date { return this.deps.now ? this.deps.now() : new Date(); }
  /** Today, without making a Date per call when the real clock is used (this runs per message). */
  private today(): string {
    return this.deps.now ? dayOf(this.deps.now(), this.deps.timeZone) : dayOfMs(Date.now(), this.deps.timeZone);
  }

  async start(): Promise<void> { await this.loadMonth(dayOf(this.now(), this.deps.timeZone).slice(0, 7)); }

  async stop(): Promise<void> {
    const ops = this.pendingOps();
    if (ops.length > 0) await this.deps.store.raw.batch(ops, { sync: true });
  }

  /** Loads the month's rows into memory; called at start and when the calendar month turns. */
  async loadMonth(month: string): Promise<void> {
    this.month = month;
    this.rows.clear();
    Object.assign(this.monthTotal, emptyUsage());
    for await (const [key, value] of this.db.iterator({ gte: `${month}-`, lt: `${month}-~` })) {
      this.rows.set(key, value);
      addUsage(this.monthTotal, value);
    }
  }

  /** Today; when the calendar month has turned since the last call, the totals roll over first. */
  private currentDay(): string {
    const day = this.today();
    if (this.month === '' || !day.startsWith(this.month)) this.rollMonth(day.slice(0, 7));
    return day;
  }

  /** Counts one message (or one refusal). Synchronous: the next group commit persists it. */
  count(deviceId: string, kind: UsageKind, bytes: number): void {
    const day = this.currentDay();
    const key = usageKey(day, deviceId);
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
    for (const key of this.rows.keys()) if (!this.pending.holds(key)) this.rows.delete(key);
    this.month = month;
    Object.assign(this.monthTotal, emptyUsage());
  }

  pendingOps(): BatchOp[] {
    const ops: BatchOp[] = [];
    const keys = this.pending.take();
    for (const key of keys) {
      const row = this.rows.get(key);
      if (row) ops.push({ type: 'put', sublevel: this.db, key, value: { ...row } } as unknown as BatchOp);
    }
    this.leaving = keys.filter((key) => !key.startsWith(this.month));
    return ops;
  }

  committed(): void {
    this.pending.landed();
    // Rows of a past month were kept only until written.
    for (const key of this.leaving) if (!this.pending.has(key)) this.rows.delete(key);
    this.leaving = [];
  }

  commitFailed(): void {
    this.leaving = [];
    this.pending.restore((key) => this.rows.has(key));
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
