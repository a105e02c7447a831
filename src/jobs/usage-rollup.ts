import type { Logger } from '../log.js';
import type { Meter } from '../metering/meter.js';
import type { GroupCommit } from '../store/group-commit.js';
import type { JsonSublevel } from '../store/store.js';
import { addUsage, dayOf, emptyUsage, type UsageCounters } from '../metering/usage.js';

export interface RollupResult extends UsageCounters { date: string; devices: number }

/**
 * The daily usage roll-up, shortly after midnight in gateway.timezone. Counters are already persisted
 * with every group commit, so "rolling up" means: make sure the day that just ended is entirely on
 * disk (a flush picks up outbound counters that ride along with the next commit), then log that day's
 * totals once — the line an operator greps for — and keep them in `meta` (key `usage_rollup`).
 */
export async function usageRollup(deps: { meter: Meter; commits: GroupCommit; meta: JsonSublevel<unknown>; timeZone: string; log: Logger; now: () => Date }): Promise<RollupResult> {
  // The day's rows themselves go to disk, not only the journal (src/metering/usage-journal.ts).
  deps.meter.foldNext();
  await deps.commits.flush();
  const today = dayOf(deps.now(), deps.timeZone);
  // Calendar arithmetic on the date itself, so a DST change cannot make "yesterday" 23 or 25 hours back.
  const yesterday = new Date(Date.parse(`${today}T12:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  const rows = await deps.meter.usage(yesterday, yesterday);
  const totals = emptyUsage();
  for (const { date: _d, device_id: _id, ...counters } of rows) addUsage(totals, counters);
  const result: RollupResult = { date: yesterday, devices: rows.length, ...totals };
  await deps.meta.put('usage_rollup', { ...result, rolled_up_at: new Date().toISOString() });
  deps.log.info({ event: 'usage_rollup', ...result }, `usage of ${yesterday}: ${totals.messages_in} messages in, ${totals.messages_out} out, from ${rows.length} devices`);
  return result;
}
