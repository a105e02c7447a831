/**
 * The first sequence numbers of the outbox records this process has written and not yet cleared, in
 * order: which record holds an entry can then be answered from memory. Asking LevelDB took a reverse
 * iterator per acknowledged batch (open, seek, close on the main thread), the largest part of what
 * the outbox cost the main thread after the writes themselves.
 *
 * Only this run's records are known (older ones are on disk from before the start), and at most
 * `maxRecords` of them: a long outage writes more records than are worth remembering. `holding()`
 * says undefined for anything it cannot vouch for, and the caller asks LevelDB.
 */
export class RecordIndex {
  private starts: number[] = [];
  /** Index of the first live element (removals from the front are batched into one splice). */
  private first = 0;

  constructor(private readonly maxRecords = 65_536) {}

  /** A record starting at `start` is on disk (starts grow: records are written in sequence order). */
  add(start: number): void {
    this.starts.push(start);
    if (this.starts.length - this.first > this.maxRecords) this.first += 1;
    this.compact();
  }

  /**
   * The start of the record holding `seq` (the last one starting at or before it), when that record
   * is one of the known ones: the known ones are all of the records from the first known on.
   */
  holding(seq: number): number | undefined {
    let lo = this.first;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.starts[mid] as number) <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo > this.first ? this.starts[lo - 1] : undefined;
  }

  /**
   * The starts of the records in [from, to), when every record there is a known one (the known ones
   * begin at or before `from`); undefined when some may not be.
   */
  between(from: number, to: number): number[] | undefined {
    if (this.size === 0 || (this.starts[this.first] as number) > from) return undefined;
    const found: number[] = [];
    for (let i = this.first; i < this.starts.length; i++) {
      const start = this.starts[i] as number;
      if (start >= to) break;
      if (start >= from) found.push(start);
    }
    return found;
  }

  /** Records starting below `start` were deleted. */
  forgetBelow(start: number): void {
    while (this.first < this.starts.length && (this.starts[this.first] as number) < start) this.first += 1;
    this.compact();
  }

  get size(): number { return this.starts.length - this.first; }

  private compact(): void {
    if (this.first >= 1024 && this.first * 2 >= this.starts.length) {
      this.starts = this.starts.slice(this.first);
      this.first = 0;
    }
  }
}
