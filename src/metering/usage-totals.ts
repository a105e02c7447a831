import type { JsonSublevel } from '../store/store.js';
import { UNCACHED, scanEntries } from '../store/scan.js';
import { addUsage, dayTotalKey, emptyUsage, isDayRowKey, monthTotalKey, totalKeysOf, usageKey, type UsageCounters } from './usage.js';

/**
 * The totals rows of the usage sublevel (src/metering/usage.ts: a device's month, a day's over every
 * device) computed from day rows, for the cases where no running meter kept them: a store of an
 * older format (src/store/migrations.ts), the journal's replay after a crash (src/metering/meter.ts),
 * a store filled by the bench.
 */

/** Adds a day row (`YYYY-MM-DD!<device>`) into the two totals it belongs to. */
export function addToTotals(totals: Map<string, UsageCounters>, dayRowKey: string, row: UsageCounters): void {
  for (const key of totalKeysOf(dayRowKey)) {
    let total = totals.get(key);
    if (!total) { total = emptyUsage(); totals.set(key, total); }
    addUsage(total, row);
  }
}

/** Rows per batch when all totals are written. */
const WRITE_CHUNK = 10_000;

/**
 * Sums every stored day row and writes all the totals: what a store without totals rows needs once.
 * Safe to repeat: each total is written whole, not added to.
 */
export async function writeTotalsOfAllRows(usage: JsonSublevel<UsageCounters>, options: { sync: boolean; keyEncoding?: undefined } = { sync: false }): Promise<void> {
  const totals = new Map<string, UsageCounters>();
  await scanEntries(usage.iterator({ lt: '~', ...UNCACHED }), (key, row) => addToTotals(totals, key, row));
  const all = [...totals];
  for (let i = 0; i < all.length; i += WRITE_CHUNK) {
    await usage.batch(all.slice(i, i + WRITE_CHUNK).map(([key, value]) => ({ type: 'put' as const, key, value })), options);
  }
}

/**
 * The totals that `changed` day rows (about to be written over the stored ones) touch, computed whole:
 * a touched device's month from all its rows of that month, read by key; a touched day from every
 * device's rows of that day.
 */
export async function totalsTouchedBy(usage: JsonSublevel<UsageCounters>, changed: ReadonlyMap<string, UsageCounters>): Promise<Map<string, UsageCounters>> {
  const deviceMonths = new Set<string>();
  const days = new Set<string>();
  for (const key of changed.keys()) {
    if (!isDayRowKey(key)) continue;
    const bang = key.indexOf('!');
    deviceMonths.add(`${key.slice(0, 7)}!${key.slice(bang + 1)}`);
    days.add(key.slice(0, bang));
  }
  const totals = new Map<string, UsageCounters>();
  for (const deviceMonth of deviceMonths) {
    const month = deviceMonth.slice(0, 7);
    const device = deviceMonth.slice(8);
    const total = emptyUsage();
    const keys = Array.from({ length: 31 }, (_, i) => usageKey(`${month}-${String(i + 1).padStart(2, '0')}`, device));
    const stored = await usage.getMany(keys, UNCACHED);
    keys.forEach((key, i) => { const row = changed.get(key) ?? stored[i]; if (row) addUsage(total, row); });
    totals.set(monthTotalKey(month, device), total);
  }
  for (const day of days) {
    const total = emptyUsage();
    const seen = new Set<string>();
    await scanEntries(usage.iterator({ gte: `${day}!`, lt: `${day}!~`, ...UNCACHED }), (key, row) => {
      seen.add(key);
      addUsage(total, changed.get(key) ?? row);
    });
    for (const [key, row] of changed) if (key.startsWith(`${day}!`) && !seen.has(key)) addUsage(total, row);
    totals.set(dayTotalKey(day), total);
  }
  return totals;
}
