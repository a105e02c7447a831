import type { Logger } from '../log.js';

export type DropReason = 'bytes_cap' | 'age_cap' | 'too_large';

/** An episode ends after this long without a drop. */
const QUIET_MS = 60_000;

/**
 * Logs outbox drops once per episode, not per message: one warning when dropping starts and one
 * summary when it has been quiet for a minute. A long outage with a full outbox drops entries every
 * few milliseconds; a line for each would flood the journal on an SD card.
 */
export class DropLog {
  private episode: { since: number; last: number; byReason: Map<DropReason, number> } | undefined;

  constructor(private readonly log: Logger, private readonly caps: { maxBytes: number; maxAgeHours: number }) {}

  record(reason: DropReason, entries: number, now = Date.now()): void {
    if (entries <= 0) return;
    if (!this.episode) {
      this.episode = { since: now, last: now, byReason: new Map() };
      this.log.warn({ event: 'outbox_dropping', reason, outbox_max_bytes: this.caps.maxBytes, outbox_max_age_hours: this.caps.maxAgeHours },
        reason === 'too_large'
          ? 'an outbox entry is larger than one cloud publish may be; dropping it (counted in /stats)'
          : `outbox cap reached (${reason}); dropping the oldest entries (counted in /stats) until the uplink catches up`);
    }
    this.episode.last = now;
    this.episode.byReason.set(reason, (this.episode.byReason.get(reason) ?? 0) + entries);
  }

  /** Ends the episode once it has been quiet long enough; called by the uplink's housekeeping timer. */
  tick(now = Date.now(), force = false): void {
    const e = this.episode;
    if (!e || (!force && now - e.last < QUIET_MS)) return;
    this.episode = undefined;
    this.log.info({ event: 'outbox_dropping_ended', dropped: Object.fromEntries(e.byReason), duration_seconds: Math.round((e.last - e.since) / 1000) }, 'outbox drop episode ended');
  }
}
