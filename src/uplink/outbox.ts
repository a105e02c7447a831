import { randomBytes } from 'node:crypto';
import type { AbstractIteratorOptions } from 'abstract-level';
import type { AcceptedMessage, IngestSink } from '../broker/ingest.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Service } from '../lifecycle.js';
import type { Logger } from '../log.js';
import type { BatchOp, CommitContributor, GroupCommit } from '../store/group-commit.js';
import { SYNC, type BufferSublevel, type JsonSublevel, type Store } from '../store/store.js';
import { DropLog, type DropReason } from './drop-log.js';
import { decodeEntry, type OutboxEntry } from './outbox-entry.js';
import { entriesOf, entryCountOf } from './outbox-record.js';
import { RecordBuilder } from './record-builder.js';
import { KEY_BYTES, parseSeqKey, seqKey } from './outbox-key.js';
import { RateWindow } from './rate-window.js';
import { RecentEntries } from './recent-entries.js';
import { RecordIndex } from './record-index.js';
import { PendingKeys } from '../store/pending-keys.js';
import { TypedEmitter } from '../typed-emitter.js';

/** An entry as read back: its outbox sequence number and its accounted size (key + value bytes). */
export interface StoredEntry extends OutboxEntry {
  seq: number;
  size: number;
}

export interface OutboxOptions {
  store: Store;
  /** The broker's group commit: staged entries are written by it, with their per-device counters. */
  commits: GroupCommit;
  log: Logger;
  /** cloud.outbox_max_bytes; 0 = no byte cap. */
  maxBytes: number;
  /** cloud.outbox_max_age_hours; 0 = no age cap. */
  maxAgeHours: number;
  /** The uplink's send window: how many of the newest entries stay in memory for it. */
  sendWindow: SendWindow;
}

/** Keys of the outbox's state in the `state` sublevel (docs/UPLINK.md "Outbox"). */
const ST = {
  /** Random id of this outbox, made once: (outbox_id, device_id, seq) is unique for ever. */
  outboxId: 'uplink!outbox_id',
  /** Highest outbox sequence number removed so far; keeps numbering monotonic when the outbox is empty. */
  removedUpTo: 'uplink!removed_hw',
  /**
   * `uplink!seq!<device id>` → no per-device sequence number above it has been handed out: a
   * reservation while running (SEQ_RESERVE ahead), the exact last number after a clean stop.
   */
  seq: 'uplink!seq!',
  /** `uplink!drop!<device id>` → entries of that device dropped by the caps, ever. */
  drop: 'uplink!drop!',
} as const;

/**
 * Past the byte cap, free down to this share of it, so that one drop pass (a read and a delete
 * batch) makes room for many messages instead of running for every message.
 */
const LOW_WATER = 0.95;
/**
 * classic-level hands entries over in chunks of this many bytes (default 16 KB, ~90 entries): a batch
 * of 500 typical entries then comes in one round trip to the LevelDB thread instead of six.
 */
const READ_HIGH_WATER_BYTES = 256 * 1024;
/** Entries read per step of a drop pass. */
const CHUNK = 1000;

type StagedListener = (seq: number, size: number, receivedAt: number) => void;

export type OutboxEvents = {
  /** Entries left the outbox: acknowledged (no reason) or dropped. */
  removed: [entries: number, reason: DropReason | undefined];
  /** A group commit landed: entries up to `committedUpTo` are on disk (or were a failed commit's gap). */
  committed: [];
};

/**
 * Per-device sequence numbers are reserved this many at a time: the counter on disk is written with
 * the entry that passes the last reservation, not with every group commit (with 50 busy devices that
 * had been about one extra LevelDB operation per message). After a crash or power cut a device's
 * numbers jump ahead by less than this; after a clean stop they go on exactly.
 */
const SEQ_RESERVE = 1000;

/** What the uplink keeps in flight, which sizes the outbox's memory of recent entries. */
export interface SendWindow {
  /** cloud.inflight_batches */
  inflight: number;
  /** cloud.batch_max_messages */
  batchMessages: number;
  /** cloud.batch_max_bytes */
  batchBytes: number;
}

/** The send window of the uplink's settings (the same ones src/uplink/uplink.ts gives its batcher). */
export function sendWindowOf(cloud: GatewayConfig['cloud']): SendWindow {
  return { inflight: cloud.inflight_batches, batchMessages: cloud.batch_max_messages, batchBytes: cloud.batch_max_bytes };
}

/**
 * The newest entries kept in memory for the batcher (src/uplink/recent-entries.ts), so a connected
 * uplink never reads back what it has just written: the batches in flight, the one being filled and
 * two batches' worth staged behind it (a QoS 0 commit is up to 25 ms of traffic). When the oldest
 * in-flight entries fell out at full speed (4,096 entries with 500-message batches), every
 * acknowledgement read the new head back from LevelDB (refreshOldest): an iterator per batch, 1.2 µs
 * per message of the main thread. Bytes: a batch's entries are not larger than its document.
 */
function recentLimits(w: SendWindow): { maxEntries: number; maxBytes: number } {
  const batches = w.inflight + 3;
  return { maxEntries: batches * w.batchMessages, maxBytes: batches * w.batchBytes };
}

/**
 * The durable outbox of the uplink: every accepted device message, in LevelDB (sublevel `out`)
 * under a monotonically increasing 64-bit sequence number, until the cloud acknowledges it or a cap
 * drops it.
 *
 * Writes: `stage()` (the IngestSink) numbers and encodes an entry and keeps it; the broker's group
 * commit takes everything staged since its last batch as one record (src/uplink/outbox-record.ts,
 * keyed by its first sequence number) and syncs it with the usage counters before the devices get
 * their PUBACKs. Removals (acknowledged or dropped entries) are written here, unsynced and in order:
 * the state's removed-up-to mark first, then the records that lie wholly below the new head; losing
 * them to a power cut only means a resend.
 *
 * Accounting (count, bytes, oldest age) is kept in memory and updated incrementally. The one rule that
 * keeps it exact: every removal is "advance `head` past these entries" done synchronously, and it
 * subtracts only entries it has actually read from disk that are still at or above `head`. So an entry
 * is subtracted exactly once, whichever of ack, byte cap or age cap gets to it first. After a restart
 * the existing entries are counted by a background scan (start stays fast with a large backlog).
 */
export class Outbox implements Service, IngestSink, CommitContributor {
  readonly name = 'outbox';
  /** Bytes staged per second over the last minute (for the absorb estimate). */
  readonly inflow = new RateWindow(60);
  readonly events = new TypedEmitter<OutboxEvents>();
  private readonly out: BufferSublevel;
  private readonly st: JsonSublevel<unknown>;
  private readonly dropLog: DropLog;
  private nextSeq = 1;
  /** Lowest sequence number that may still be live: everything below it is removed. */
  private headSeq = 1;
  private countN = 0;
  private bytesN = 0;
  private oldestAt: number | undefined;
  private readonly deviceSeq = new Map<string, number>();
  /** Per device: the bound on disk (or in the group commit being written) that deviceSeq may not pass. */
  private readonly seqReserved = new Map<string, number>();
  /** Devices whose per-device counter changed since the last group commit took them. */
  private readonly seqPending = new PendingKeys();
  private readonly recent: RecentEntries;
  /** Where this run's records start, for recordHolding() without a LevelDB seek. */
  private records = new RecordIndex();
  /** The first sequence number of the record in the group commit being written, if it holds one. */
  private inFlightRecord: number | undefined;
  /** Entries up to here are synced (or are gaps of a failed commit); set when a group commit lands. */
  private committedUpToSeq = 0;
  /** What the group commit being written holds: entries staged up to here. */
  private inFlightUpTo = 0;
  /** Entries staged since the group commit last took them: the next record, from `stagedFirst` on. */
  private readonly staged = new RecordBuilder();
  private stagedFirst = 0;
  private stagedBytes = 0;
  /**
   * Bytes of the record in the group commit being written, for the accounting if that commit fails
   * (its entries are those after committedUpToSeq up to inFlightUpTo).
   */
  private inFlightBytes = 0;
  /** Records that start below this sequence number have been deleted (the lower bound of the next clear). */
  private clearedBelow = 0;
  private readonly droppedBy = new Map<string, number>();
  private droppedTotalN = 0;
  private id = '';
  /** Start-up scan: entries in [pos, limit] are on disk but not yet in the accounting. */
  private scan: { pos: number; limit: number } | undefined;
  private scanning: Promise<void> | undefined;
  private enforcing: Promise<void> | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  /** This outbox's own writes (removals), applied strictly in order. */
  private writes: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly stagedListeners: StagedListener[] = [];

  constructor(private readonly opts: OutboxOptions) {
    this.out = opts.store.binary('outbox');
    this.st = opts.store.json<unknown>('state');
    this.dropLog = new DropLog(opts.log, { maxBytes: opts.maxBytes, maxAgeHours: opts.maxAgeHours });
    this.recent = new RecentEntries(recentLimits(opts.sendWindow));
    opts.commits.addContributor(this);
  }

  async start(): Promise<void> {
    this.stopped = false;
    const id = await this.st.get(ST.outboxId);
    if (typeof id === 'string') this.id = id;
    else { this.id = randomBytes(8).toString('hex'); await this.st.put(ST.outboxId, this.id, SYNC); }

    for await (const [key, value] of this.st.iterator({ gte: ST.seq, lt: `${ST.seq}~` })) {
      // Numbers up to the bound may have been used before a crash: go on after it.
      const device = key.slice(ST.seq.length);
      this.deviceSeq.set(device, Number(value));
      this.seqReserved.set(device, Number(value));
    }
    for await (const [key, value] of this.st.iterator({ gte: ST.drop, lt: `${ST.drop}~` })) {
      this.droppedBy.set(key.slice(ST.drop.length), Number(value));
      this.droppedTotalN += Number(value);
    }
    const removedUpTo = Number((await this.st.get(ST.removedUpTo)) ?? 0);
    const [firstKey] = await this.out.keys({ limit: 1 }).all();
    const [lastRecord] = await this.out.iterator({ limit: 1, reverse: true }).all();
    const last = lastRecord === undefined ? 0 : parseSeqKey(lastRecord[0]) + entryCountOf(lastRecord[1]) - 1;
    this.nextSeq = Math.max(last, removedUpTo) + 1;
    this.clearedBelow = firstKey === undefined ? this.nextSeq : parseSeqKey(firstKey);
    // The record holding the head stays on disk until the head has passed it: skip what was removed.
    this.headSeq = firstKey === undefined ? this.nextSeq : Math.max(parseSeqKey(firstKey), removedUpTo + 1);
    this.committedUpToSeq = this.nextSeq - 1;
    this.inFlightUpTo = this.committedUpToSeq;
    if (this.headSeq <= last) {
      const [oldest] = await this.read(this.headSeq, 1);
      this.oldestAt = oldest?.receivedAt;
      this.scan = { pos: this.headSeq, limit: last };
      this.scanning = this.recoverAccounting();
    } else {
      this.headSeq = this.nextSeq;
    }
    this.recent.reset(this.nextSeq);
    this.records = new RecordIndex();
    this.inFlightRecord = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.dropLog.tick(Date.now(), true);
    await this.scanning;
    await this.enforcing;
    await this.refreshing;
    await this.writes;
    // The broker has stopped and its last commit is written: the exact numbers, so that a clean
    // restart goes on without a jump (a crash later only finds the reservations of the next run).
    const exact = [...this.deviceSeq].filter(([device, seq]) => this.seqReserved.get(device) !== seq);
    if (exact.length > 0) await this.st.batch(exact.map(([device, seq]) => ({ type: 'put' as const, key: ST.seq + device, value: seq })), SYNC);
  }

  // ---- the IngestSink: the broker's hot path, synchronous and allocation-light --------------------

  stage(msg: AcceptedMessage): void {
    const seq = this.nextSeq;
    const deviceSeq = (this.deviceSeq.get(msg.deviceId) ?? 0) + 1;
    if (this.staged.count === 0) this.stagedFirst = seq;
    // Written straight into the next record; the payload view is into it, not into the broker's
    // buffer (which may share a whole socket read). An entry that cannot be stored (an id or topic
    // too long for its length field) throws here, before any number is used: a record's entries
    // must have consecutive sequence numbers.
    const { bytes, payload } = this.staged.append({ deviceId: msg.deviceId, topic: msg.topic, receivedAt: msg.receivedAt, deviceSeq, payload: msg.payload });
    this.nextSeq = seq + 1;
    this.deviceSeq.set(msg.deviceId, deviceSeq);
    if (deviceSeq > (this.seqReserved.get(msg.deviceId) ?? 0)) {
      this.seqReserved.set(msg.deviceId, deviceSeq + SEQ_RESERVE - 1);
      this.seqPending.mark(msg.deviceId);
    }
    const size = KEY_BYTES + bytes;
    if (this.countN === 0) this.oldestAt = msg.receivedAt;
    this.countN += 1;
    this.bytesN += size;
    this.inflow.add(size);
    this.recent.add({ deviceId: msg.deviceId, topic: msg.topic, receivedAt: msg.receivedAt, deviceSeq, payload, seq, size });
    for (const listener of this.stagedListeners) listener(seq, size, msg.receivedAt);
    if (this.opts.maxBytes > 0 && this.bytesN > this.opts.maxBytes) this.enforceByteCap();
    this.stagedBytes += size;
    // The entry goes to disk in the group commit's next batch, as part of one record (pendingOps).
  }

  /**
   * The record of the entries staged since the last batch, and the new per-device reservations. The
   * commit collects both in one synchronous step, so a reservation on disk is never behind an entry on
   * disk: numbering stays monotonic across crashes (gaps are possible, reuse is not).
   */
  pendingOps(): BatchOp[] {
    this.inFlightUpTo = this.nextSeq - 1;
    const ops = this.seqPending.take().map((device) => ({ type: 'put', sublevel: this.st, key: ST.seq + device, value: this.seqReserved.get(device) }) as unknown as BatchOp);
    this.inFlightBytes = this.stagedBytes;
    this.inFlightRecord = undefined;
    const record = this.staged.take();
    if (record) {
      this.inFlightRecord = this.stagedFirst;
      ops.push({ type: 'put', sublevel: this.out, key: seqKey(this.stagedFirst), value: record } as unknown as BatchOp);
      this.stagedBytes = 0;
    }
    return ops;
  }

  /**
   * The record was not written and its entries were never acknowledged: gaps from now on, in memory
   * as on disk, with their sequence numbers used. No removal can have subtracted them from the
   * accounting (removals subtract only committed entries), so they are subtracted here.
   */
  commitFailed(): void {
    this.seqPending.restore();
    this.countN = Math.max(0, this.countN - (this.inFlightUpTo - this.committedUpToSeq));
    this.bytesN = Math.max(0, this.bytesN - this.inFlightBytes);
    this.inFlightBytes = 0;
    this.inFlightRecord = undefined;
    this.recent.dropRange(this.committedUpToSeq, this.inFlightUpTo);
    this.committedUpToSeq = this.inFlightUpTo;
    this.events.emit('committed');
  }

  committed(): void {
    this.inFlightBytes = 0;
    if (this.inFlightRecord !== undefined) this.records.add(this.inFlightRecord);
    this.inFlightRecord = undefined;
    if (this.inFlightUpTo === this.committedUpToSeq) return;
    this.committedUpToSeq = this.inFlightUpTo;
    this.events.emit('committed');
  }

  /** Called for every staged entry (the batcher uses it to know when a batch is due). */
  onStaged(listener: StagedListener): () => void {
    this.stagedListeners.push(listener);
    return () => { const i = this.stagedListeners.indexOf(listener); if (i >= 0) this.stagedListeners.splice(i, 1); };
  }

  // ---- reading and removing ----------------------------------------------------------------------

  /**
   * Up to `limit` committed entries from sequence number `from` on (never below `head`), oldest first:
   * from memory while they are recent, else from LevelDB.
   */
  async read(from: number, limit: number): Promise<StoredEntry[]> {
    const start = Math.max(from, this.headSeq);
    const recent = this.recent.read(start, limit, this.committedUpToSeq);
    if (recent) return recent;
    const entries: StoredEntry[] = [];
    if (limit <= 0) return entries;
    const options: AbstractIteratorOptions<string, Buffer> & { highWaterMarkBytes: number } = { gte: (await this.recordHolding(start)) ?? seqKey(start), highWaterMarkBytes: READ_HIGH_WATER_BYTES };
    for await (const [key, value] of this.out.iterator(options)) {
      const first = parseSeqKey(key);
      // Below head: removed while we were reading (acknowledged or dropped), not live any more.
      const skip = Math.max(0, Math.max(start, this.headSeq) - first);
      const parts = entriesOf(value, skip, limit - entries.length);
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i] as Buffer;
        const entry = decodeEntry(part) as StoredEntry;
        entry.seq = first + skip + i;
        entry.size = KEY_BYTES + part.length;
        entries.push(entry);
      }
      if (entries.length >= limit) break;
    }
    return entries;
  }

  /**
   * Removes entries (oldest first, and in outbox order across calls): acknowledged by the cloud when
   * `reason` is absent, dropped (and counted per device) otherwise. The removal is complete in memory
   * when this returns; the deletes are written behind, in order. Returns how many entries it removed.
   */
  remove(entries: readonly StoredEntry[], reason?: DropReason): number {
    const head = this.headSeq;
    const ops: BatchOp[] = [];
    const touched = new Set<string>();
    let removed = 0;
    let last = -1;
    for (const e of entries) {
      if (e.seq < head) continue;
      removed += 1;
      last = Math.max(last, e.seq);
      if (this.isCounted(e.seq)) { this.countN -= 1; this.bytesN -= e.size; }
      if (reason) {
        this.droppedBy.set(e.deviceId, (this.droppedBy.get(e.deviceId) ?? 0) + 1);
        this.droppedTotalN += 1;
        touched.add(e.deviceId);
      }
    }
    if (removed === 0) return 0;
    this.headSeq = last + 1;
    this.recent.trimBelow(this.headSeq);
    if (this.countN <= 0) { this.countN = 0; this.bytesN = 0; }
    for (const device of touched) ops.push({ type: 'put', sublevel: this.st, key: ST.drop + device, value: this.droppedBy.get(device) } as unknown as BatchOp);
    ops.push({ type: 'put', sublevel: this.st, key: ST.removedUpTo, value: last } as unknown as BatchOp);
    if (reason) this.dropLog.record(reason, removed);
    this.write(ops, this.headSeq);
    this.refreshOldest();
    this.events.emit('removed', removed, reason);
    return removed;
  }

  /** Drops entries older than the age cap (the retention job calls it; so does the uplink hourly). */
  async prune(now = Date.now()): Promise<number> {
    if (this.opts.maxAgeHours <= 0) return 0;
    const cutoff = now - this.opts.maxAgeHours * 3_600_000;
    let dropped = 0;
    while (!this.stopped && this.oldestAt !== undefined && this.oldestAt < cutoff) {
      const chunk = await this.read(this.headSeq, CHUNK);
      // Receive times follow sequence order (both are taken when the broker accepts a message).
      const old = chunk.filter((e) => e.receivedAt < cutoff);
      dropped += this.remove(old, 'age_cap');
      if (old.length < CHUNK) break;
    }
    return dropped;
  }

  // ---- figures -------------------------------------------------------------------------------------

  get count(): number { return this.countN; }
  get bytes(): number { return this.bytesN; }
  /** Lowest sequence number that may be live (where a resend starts). */
  get head(): number { return this.headSeq; }
  /** The last sequence number handed out by stage(). */
  get lastStaged(): number { return this.nextSeq - 1; }
  /** Entries up to this sequence number are on disk (or were a failed commit's gap). */
  get committedUpTo(): number { return this.committedUpToSeq; }
  get outboxId(): string { return this.id; }
  get droppedTotal(): number { return this.droppedTotalN; }
  droppedByDevice(): Record<string, number> { return Object.fromEntries(this.droppedBy); }
  /** False while the start-up scan is still counting the entries found on disk. */
  get exact(): boolean { return this.scan === undefined; }
  get maxBytes(): number { return this.opts.maxBytes; }

  oldestAgeSeconds(now = Date.now()): number {
    return this.countN === 0 || this.oldestAt === undefined ? 0 : Math.max(0, (now - this.oldestAt) / 1000);
  }

  /** Resolves when nothing of this outbox is waiting to be written or counted (tests, shutdown). */
  async settled(): Promise<void> {
    await this.scanning;
    await this.enforcing;
    await this.refreshing;
    await this.writes;
  }

  /** Ends a quiet drop episode (see DropLog); called periodically by the uplink. */
  tick(now = Date.now()): void { this.dropLog.tick(now); }

  // ---- internals -----------------------------------------------------------------------------------

  /** Whether an entry is in the in-memory accounting (entries found at start are, once scanned). */
  private isCounted(seq: number): boolean {
    return this.scan === undefined || seq > this.scan.limit || seq < this.scan.pos;
  }

  private async recoverAccounting(): Promise<void> {
    const scan = this.scan;
    if (!scan) return;
    const gte = (await this.recordHolding(Math.max(scan.pos, this.headSeq))) ?? seqKey(scan.pos);
    const options: AbstractIteratorOptions<string, Buffer> & { highWaterMarkBytes: number } = { gte, lte: seqKey(scan.limit), highWaterMarkBytes: READ_HIGH_WATER_BYTES };
    for await (const [key, value] of this.out.iterator(options)) {
      if (this.stopped) break;
      const first = parseSeqKey(key);
      const parts = entriesOf(value);
      for (let i = 0; i < parts.length && first + i <= scan.limit; i++) {
        const seq = first + i;
        // Entries removed while the scan ran are below head: not live, not counted.
        if (seq >= scan.pos && seq >= this.headSeq) { this.countN += 1; this.bytesN += KEY_BYTES + (parts[i] as Buffer).length; }
      }
      // In the same synchronous step as the counting: from here on, removals subtract these entries.
      scan.pos = Math.max(scan.pos, first + parts.length);
    }
    this.scan = undefined;
    this.scanning = undefined;
    if (this.opts.maxBytes > 0 && this.bytesN > this.opts.maxBytes) this.enforceByteCap();
  }

  private enforceByteCap(): void {
    if (this.enforcing || this.scan || this.stopped) return;
    this.enforcing = this.dropToByteCap()
      .catch((err: unknown) => this.opts.log.error({ event: 'outbox_cap_failed', err }, 'enforcing the outbox byte cap failed'))
      .finally(() => { this.enforcing = undefined; });
  }

  private async dropToByteCap(): Promise<void> {
    const cap = this.opts.maxBytes;
    while (!this.stopped && this.bytesN > cap) {
      const picked: StoredEntry[] = [];
      let freed = 0;
      let from = this.headSeq;
      // bytesN grows while we read (inflow); the loop keeps picking until the low-water mark holds.
      while (this.bytesN - freed > cap * LOW_WATER) {
        const chunk = await this.read(from, CHUNK);
        for (const e of chunk) {
          picked.push(e);
          freed += e.size;
          if (this.bytesN - freed <= cap * LOW_WATER) break;
        }
        const lastEntry = chunk[chunk.length - 1];
        if (chunk.length < CHUNK || lastEntry === undefined) break;
        from = lastEntry.seq + 1;
      }
      if (this.remove(picked, 'bytes_cap') === 0) break;
    }
  }

  /** Re-reads the receive time of the oldest live entry after the head moved. */
  private refreshOldest(): void {
    if (this.countN === 0) { this.oldestAt = undefined; return; }
    if (this.refreshing) { this.refreshAgain = true; return; }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        const [first] = await this.read(this.headSeq, 1);
        // Nothing readable yet but entries counted: they are still in their group commit, and stage()
        // has already set oldestAt from the first of them.
        if (this.countN === 0) this.oldestAt = undefined;
        else if (first) this.oldestAt = first.receivedAt;
      } while (this.refreshAgain && !this.stopped);
    })()
      .catch((err: unknown) => this.opts.log.warn({ event: 'outbox_read_failed', err }, 'reading the oldest outbox entry failed'))
      .finally(() => { this.refreshing = undefined; });
  }

  /**
   * Writes a removal: first the state (the removed-up-to mark, drop counters), then the records that
   * lie wholly below the new head are deleted (clearBelow). In this order a crash in between only
   * means a resend; the other order could lose the mark and hand out used sequence numbers again.
   */
  private write(ops: BatchOp[], head: number): void {
    const db = this.opts.store.raw;
    this.writes = this.writes
      .then(() => db.batch(ops))
      .then(() => this.clearBelow(head))
      .catch((err: unknown) => {
        // The entries stay on disk; after a restart they are sent (or dropped) again. Never a crash.
        this.opts.log.error({ event: 'outbox_write_failed', err }, 'writing outbox removals failed');
      });
  }

  /**
   * Deletes every record before the one holding `head`: those hold only removed entries. The record
   * holding it (or the last one before it) stays until a later head has passed it.
   */
  private async clearBelow(head: number): Promise<void> {
    const holding = await this.recordHolding(head);
    if (holding === undefined) return;
    const start = parseSeqKey(holding);
    if (start <= this.clearedBelow) return;
    // This run's records are deleted by key: a range clear walks LevelDB's iterator over them, which
    // reads back (and decompresses) every record that has left the memtable, only to delete it.
    const known = this.records.between(this.clearedBelow, start);
    if (known) await this.out.batch(known.map((s) => ({ type: 'del' as const, key: seqKey(s) })));
    else await this.out.clear({ gte: seqKey(this.clearedBelow), lt: holding });
    this.clearedBelow = start;
    this.records.forgetBelow(start);
  }

  /** The key of the record that holds `seq` if it is on disk: the last one starting at or before it. */
  private async recordHolding(seq: number): Promise<string | undefined> {
    const known = this.records.holding(seq);
    if (known !== undefined) return seqKey(known);
    const [key] = await this.out.keys({ lte: seqKey(seq), reverse: true, limit: 1 }).all();
    return key;
  }
}
