/** Counters of one device on one day (a usage row), as stored and as /usage returns them. */
export interface UsageCounters {
  messages_in: number;
  messages_out: number;
  bytes_in: number;
  bytes_out: number;
  throttled: number;
  rejected: number;
}

export type UsageKind = 'in' | 'out' | 'throttled' | 'rejected';

export function emptyUsage(): UsageCounters {
  return { messages_in: 0, messages_out: 0, bytes_in: 0, bytes_out: 0, throttled: 0, rejected: 0 };
}

export function addUsage(into: UsageCounters, from: UsageCounters): UsageCounters {
  into.messages_in += from.messages_in;
  into.messages_out += from.messages_out;
  into.bytes_in += from.bytes_in;
  into.bytes_out += from.bytes_out;
  into.throttled += from.throttled;
  into.rejected += from.rejected;
  return into;
}

/** Adds one message (or one refusal) of `kind` with `bytes` to `into`. */
export function countInto(into: UsageCounters, kind: UsageKind, bytes: number): void {
  switch (kind) {
    case 'in': into.messages_in += 1; into.bytes_in += bytes; break;
    case 'out': into.messages_out += 1; into.bytes_out += bytes; break;
    case 'throttled': into.throttled += 1; break;
    case 'rejected': into.rejected += 1; break;
  }
}

/** Calendar day `YYYY-MM-DD` of `when` in `timeZone` ('' = the system zone). */
export function dayOf(when: Date, timeZone: string): string {
  return dayOfMs(when.getTime(), timeZone);
}

/** dayOf for a time in ms since the epoch: the per-message path, with no Date made within a second. */
export function dayOfMs(ms: number, timeZone: string): string {
  // Called for every message: Intl formatting costs ~1 µs, so the answer is kept for the second.
  const second = Math.floor(ms / 1000);
  if (second === lastDay.second && timeZone === lastDay.timeZone) return lastDay.day;
  const fmt = dayFormatters.get(timeZone) ?? makeFormatter(timeZone);
  const day = fmt.format(new Date(ms));
  lastDay = { second, timeZone, day };
  return day;
}

let lastDay = { second: Number.NaN, timeZone: '', day: '' };

const dayFormatters = new Map<string, Intl.DateTimeFormat>();
function makeFormatter(timeZone: string): Intl.DateTimeFormat {
  const fmt = new Intl.DateTimeFormat('en-CA', { timeZone: timeZone || undefined, year: 'numeric', month: '2-digit', day: '2-digit' });
  dayFormatters.set(timeZone, fmt);
  return fmt;
}

export function usageKey(day: string, deviceId: string): string { return `${day}!${deviceId}`; }

/**
 * Totals kept as rows of their own in the usage sublevel, beside the day rows (docs/STORE.md): a
 * device's month (`~m!YYYY-MM!<device>`) and a day's over every device (`~d!YYYY-MM-DD`). `~` sorts
 * after every digit, so a read of day rows by date never meets them.
 */
export const MONTH_TOTAL_PREFIX = '~m!';
export const DAY_TOTAL_PREFIX = '~d!';

export function monthTotalKey(month: string, deviceId: string): string { return `${MONTH_TOTAL_PREFIX}${month}!${deviceId}`; }

export function dayTotalKey(day: string): string { return `${DAY_TOTAL_PREFIX}${day}`; }

/** The two totals a day row (`YYYY-MM-DD!<device>`) belongs to: its device's month, its day. */
export function totalKeysOf(dayRowKey: string): [monthTotal: string, dayTotal: string] {
  const bang = dayRowKey.indexOf('!');
  return [monthTotalKey(dayRowKey.slice(0, 7), dayRowKey.slice(bang + 1)), dayTotalKey(dayRowKey.slice(0, bang))];
}

/** Whether a key of the usage sublevel is a day row (`YYYY-MM-DD!<device>`), not a total. */
export function isDayRowKey(key: string): boolean { return !key.startsWith('~'); }

