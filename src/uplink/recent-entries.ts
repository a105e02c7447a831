import type { StoredEntry } from './outbox.js';

/**
 * The newest outbox entries, kept in memory as they are staged, so that the batcher of a connected
 * uplink takes them from here instead of reading back from LevelDB what was written a moment ago
 * (the read and the decoding were ~8% of the gateway's CPU at full speed). Bounded by count and bytes:
 * when the cloud is away the oldest fall out and are read from disk when their turn comes.
 *
 * The one invariant: every entry staged with a sequence number ≥ `coversFrom` is here, except the
 * entries of a failed group commit (gaps, which are not on disk either).
 */
export class RecentEntries {
  /** Slots below `first` are emptied as their entries leave; the array is compacted now and then. */
  private entries: Array<StoredEntry | undefined> = [];
  /** Index of the first live element (removals from the front are batched into one splice). */
  private first = 0;
  private bytes = 0;
  private coversFrom = Number.POSITIVE_INFINITY;

  constructor(private readonly limits: { maxEntries: number; maxBytes: number }) {}

  /** Starts empty, covering everything staged from `nextSeq` on. */
  reset(nextSeq: number): void {
    this.entries = [];
    this.first = 0;
    this.bytes = 0;
    this.coversFrom = nextSeq;
  }

  add(entry: StoredEntry): void {
    this.entries.push(entry);
    this.bytes += entry.size;
    while (this.length > this.limits.maxEntries || (this.bytes > this.limits.maxBytes && this.length > 1)) {
      const oldest = this.shift();
      this.coversFrom = oldest.seq + 1;
    }
  }

  /** Forgets entries below `seq` (acknowledged or dropped: they left the outbox). */
  trimBelow(seq: number): void {
    while (this.length > 0 && (this.entries[this.first] as StoredEntry).seq < seq) this.shift();
    if (this.coversFrom < seq) this.coversFrom = seq;
  }

  /** Forgets the entries with after < seq ≤ upTo: their group commit failed, they are not on disk. */
  dropRange(after: number, upTo: number): void {
    const kept = this.entries.slice(this.first).filter((e): e is StoredEntry => e !== undefined && (e.seq <= after || e.seq > upTo));
    this.entries = kept;
    this.first = 0;
    this.bytes = kept.reduce((sum, e) => sum + e.size, 0);
  }

  /**
   * Up to `limit` entries from `start` to `committedUpTo`, oldest first; undefined when entries from
   * `start` on may be on disk only (then the caller reads LevelDB).
   */
  read(start: number, limit: number, committedUpTo: number): StoredEntry[] | undefined {
    if (start < this.coversFrom) return undefined;
    const out: StoredEntry[] = [];
    for (let i = this.indexOf(start); i < this.entries.length && out.length < limit; i++) {
      const e = this.entries[i] as StoredEntry;
      if (e.seq > committedUpTo) break;
      out.push(e);
    }
    return out;
  }

  get length(): number { return this.entries.length - this.first; }

  private shift(): StoredEntry {
    const oldest = this.entries[this.first] as StoredEntry;
    // Let go of it now, not at the next compaction of the array: an entry still referenced from the
    // array outlives the young generation and is promoted, and the mark-compacts that clear promoted
    // garbage pause the loop for milliseconds.
    this.entries[this.first] = undefined;
    this.first += 1;
    this.bytes -= oldest.size;
    if (this.first >= 1024 && this.first * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.first);
      this.first = 0;
    }
    return oldest;
  }

  /** Index of the first entry with seq ≥ `seq` (binary search; entries are in sequence order). */
  private indexOf(seq: number): number {
    let lo = this.first;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.entries[mid] as StoredEntry).seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
