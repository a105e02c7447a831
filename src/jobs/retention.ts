import type { Logger } from '../log.js';
import type { Meter } from '../metering/meter.js';
import { COMPACT_AFTER_PRUNE, type Compaction } from './compaction.js';

/** Something with old data to drop; returns how many entries went. The uplink adds the outbox's. */
export interface PruneHook {
  name: string;
  prune(): Promise<number>;
}

/**
 * Retention: usage rows older than jobs.usage_retention_days, plus whatever other services register
 * (`gateway.retention.add({name: 'outbox', prune})` — the outbox caps are the uplink's to apply).
 * After a large prune the store is compacted at once, so the space comes back while it is needed.
 */
export class Retention {
  private readonly hooks: PruneHook[] = [];

  constructor(private readonly deps: { meter: Meter; usageRetentionDays: number; compaction: Compaction; log: Logger }) {}

  /** Registers a hook; returns a function that removes it (call it from the owner's stop()). */
  add(hook: PruneHook): () => void {
    this.hooks.push(hook);
    return () => {
      const i = this.hooks.indexOf(hook);
      if (i >= 0) this.hooks.splice(i, 1);
    };
  }

  async run(): Promise<Record<string, number | boolean>> {
    const deleted: Record<string, number> = { usage: await this.deps.meter.prune(this.deps.usageRetentionDays) };
    for (const hook of [...this.hooks]) {
      try {
        deleted[hook.name] = await hook.prune();
      } catch (err) {
        // One failing hook must not keep the others (or usage retention) from running.
        this.deps.log.error({ event: 'retention_failed', hook: hook.name, err }, `retention of ${hook.name} failed`);
      }
    }
    const total = Object.values(deleted).reduce((a, b) => a + b, 0);
    await this.deps.compaction.noteDeleted(total);
    let compacted = false;
    if (total >= COMPACT_AFTER_PRUNE) compacted = (await this.deps.compaction.compact('large_prune')).compacted;
    if (total > 0) this.deps.log.info({ event: 'retention', deleted, compacted }, `retention removed ${total} old entries`);
    return { ...deleted, compacted };
  }
}
