import type { Logger } from '../log.js';
import type { Meter } from '../metering/meter.js';
import type { GroupCommit } from '../store/group-commit.js';
import { SYNC, type JsonSublevel } from '../store/store.js';
import { dayOf } from '../metering/usage.js';

export interface QuotaPeriodRecord { month: string; started_at: string }

export interface QuotaPeriodResult { month: string; reset: boolean; previous: string | null; previous_messages?: number; previous_bytes?: number }

/**
 * The monthly quota period: a calendar month in gateway.timezone. At the turn of the month (the
 * `quota_reset` job, and once at start in case the gateway was off at midnight) it flushes the old
 * month's counters, starts the meter on the new month — /quota counts from zero while /usage keeps
 * the old rows — records the period start in `meta` (key `quota_period`) and logs the closed month.
 */
export class QuotaPeriod {
  constructor(private readonly deps: { meter: Meter; commits: GroupCommit; meta: JsonSublevel<unknown>; timeZone: string; log: Logger; now: () => Date }) {}

  async reconcile(): Promise<QuotaPeriodResult> {
    const now = this.deps.now();
    const month = dayOf(now, this.deps.timeZone).slice(0, 7);
    const recorded = (await this.deps.meta.get('quota_period')) as QuotaPeriodRecord | undefined;
    if (recorded?.month === month && this.deps.meter.currentMonth === month) return { month, reset: false, previous: recorded.month };

    // Counters of the closing month must be on disk before the meter lets go of them.
    this.deps.meter.foldNext();
    await this.deps.commits.flush();
    // Traffic may already have rolled the meter over (it checks the day on every count); if not, the
    // meter moves to the new month here, as a count would.
    this.deps.meter.advance();
    const record: QuotaPeriodRecord = { month, started_at: now.toISOString() };
    await this.deps.meta.put('quota_period', record, SYNC);

    const previous = recorded?.month ?? null;
    if (previous === null) {
      this.deps.log.info({ event: 'quota_period_recorded', month }, `quota period ${month} recorded`);
      return { month, reset: false, previous };
    }
    const days = await this.deps.meter.dailyTotals(`${previous}-01`, `${previous}-31`);
    let messages = 0, bytes = 0;
    for (const d of days) { messages += d.messages_in + d.messages_out; bytes += d.bytes_in + d.bytes_out; }
    this.deps.log.info({ event: 'quota_period_reset', month, previous, previous_messages: messages, previous_bytes: bytes },
      `quota period ${previous} closed with ${messages} messages and ${bytes} bytes; ${month} starts from zero`);
    return { month, reset: true, previous, previous_messages: messages, previous_bytes: bytes };
  }
}
