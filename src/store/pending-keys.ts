/**
 * The bookkeeping of a group-commit contributor (src/store/group-commit.ts): keys changed since the
 * last batch took them, and the keys of the batch being written, which a failed batch gives back.
 */
export class PendingKeys {
  private dirty = new Set<string>();
  private inFlight: string[] = [];

  mark(key: string): void { this.dirty.add(key); }

  has(key: string): boolean { return this.dirty.has(key); }

  /** Whether the key still has to reach disk: changed since the last take(), or in the batch being written. */
  holds(key: string): boolean { return this.dirty.has(key) || this.inFlight.includes(key); }

  /** The keys for the next batch; they are in flight until the next take() or restore(). */
  take(): readonly string[] {
    this.inFlight = [...this.dirty];
    this.dirty.clear();
    return this.inFlight;
  }

  /** The batch holding the keys of the last take() is synced: they are no longer in flight. */
  landed(): void { this.inFlight = []; }

  /** The batch failed: its keys (those `keep` accepts) are pending again. */
  restore(keep: (key: string) => boolean = () => true): void {
    for (const key of this.inFlight) if (keep(key)) this.dirty.add(key);
    this.inFlight = [];
  }
}
