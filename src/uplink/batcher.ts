import { TokenBucket } from '../auth/token-bucket.js';
import type { Logger } from '../log.js';
import { compressIfPays, encodeBatch, GZIP_LEVEL, payloadLimit } from './batch-format.js';
import { GzipStream } from './gzip-stream.js';
import type { Link } from './bridge.js';
import type { DropReason } from './drop-log.js';
import type { Outbox, StoredEntry } from './outbox.js';
import { RateWindow } from './rate-window.js';

/**
 * While a full batch is staged but its group commit has not landed yet, the outbox's `committed`
 * event wakes the batcher; this poll is only a safety net.
 */
const COMMIT_POLL_MS = 50;
/** …but not for ever: a failed commit leaves a gap that never fills; then wait for new data instead. */
const COMMIT_WAIT_MAX_MS = 1000;
/**
 * Token bucket burst, as a share of the rate: a tenth of a second's worth. The cloud limits the
 * gateway like any device (100 messages/s), so publishes are spread out rather than sent in bursts.
 */
const BURST_SECONDS = 0.1;
/**
 * A batch leaves once it holds this many messages (or by age), and takes up to maxMessages when more
 * are waiting: when the publish rate limit holds the uplink back, batches grow by themselves. At a
 * steady 5,000 msg/s, batches that waited for 2,000 messages read a QoS 0 p99 of 3.0-5.2 ms against
 * 1.5-2.8 ms with 500 (alternating bench rounds, 2026-11-27): the encode held the event loop longer
 * (now sliced, batch-format.ts), and entries stay in memory four times as long (0.4 s to fill).
 */
const READY_MESSAGES = 500;

export interface BatcherOptions {
  outbox: Outbox;
  log: Logger;
  mode: 'batch' | 'mirror';
  gzip: boolean;
  gatewayId: string;
  /** devices/{gateway id}/telemetry */
  batchTopic: string;
  maxMessages: number;
  /** A batch of this many leaves without waiting for more (default: READY_MESSAGES, at most maxMessages). */
  readyMessages?: number;
  /** Largest MQTT PUBLISH packet (cloud.batch_max_bytes). */
  maxPacketBytes: number;
  maxAgeMs: number;
  inflight: number;
  /** Publishes per second; 0 = no limit. */
  rateLimit: number;
}

/** One publish: a batch (or, in mirror mode, one message) and the outbox entries it carries. */
interface Unit {
  entries: StoredEntry[];
  topic: string;
  payload: Buffer;
  acked: boolean;
  /** Units that cannot be sent at all are dropped when their turn comes, to keep removals in order. */
  drop?: DropReason;
}

interface Control { topic: string; payload: Buffer; retain: boolean; resolve: () => void; reject: (err: Error) => void }

type Blocked = 'inflight' | 'tokens' | 'data' | 'commit' | 'draining';

/**
 * Sends the outbox while a link is up: reads entries in sequence order, packs them into batches
 * (count, bytes, age; src/uplink/batch-format.ts) or single messages (mirror mode), paces publishes
 * with a token bucket and keeps at most `inflight` of them awaiting PUBACK.
 *
 * Acknowledgements are applied in send order: a PUBACK that overtakes an earlier one waits for it.
 * So the outbox only ever loses a prefix, and after a reconnect sending resumes at the oldest
 * unacknowledged entry (`outbox.head`). Entries are removed from the outbox only on PUBACK.
 */
export class Batcher {
  /** Messages acknowledged per second (last 10 s are shown in /stats). */
  readonly sendRate = new RateWindow(60);
  private link: Link | undefined;
  private cursor = 0;
  private inflight: Unit[] = [];
  private readonly control: Control[] = [];
  private readonly bucket: TokenBucket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private pumping = false;
  private pumpAgain = false;
  private kickScheduled = false;
  private blocked: Blocked | undefined;
  /** While blocked on data: staged entries/bytes since the last read that make a read worthwhile. */
  private want = { count: 0, bytes: 0 };
  private staged = { count: 0, bytes: 0 };
  private commitWaitSince: number | undefined;
  /** The read for the next batch, started while the current one is compressed and sent (backlog drain). */
  private prefetch: { from: number; entries: Promise<StoredEntry[] | undefined> } | undefined;
  private idleWaiters: Array<() => void> = [];
  private readonly unsubscribe: () => void;
  private readonly unsubscribeCommitted: () => void;
  readonly counters = { batches: 0, messages: 0, payloadBytes: 0 };
  private readonly gzip: GzipStream | undefined;
  private readonly readyMessages: number;

  constructor(private readonly opts: BatcherOptions) {
    this.readyMessages = Math.min(opts.readyMessages ?? READY_MESSAGES, opts.maxMessages);
    this.gzip = opts.gzip ? new GzipStream(GZIP_LEVEL) : undefined;
    this.bucket = opts.rateLimit > 0 ? new TokenBucket(opts.rateLimit, Math.max(1, Math.ceil(opts.rateLimit * BURST_SECONDS))) : undefined;
    this.unsubscribe = opts.outbox.onStaged((_seq, size, receivedAt) => this.onStaged(size, receivedAt));
    this.unsubscribeCommitted = opts.outbox.events.on('committed', () => { if (this.link && this.blocked === 'commit') this.kick(); });
  }

  /** A link came up: resend from the oldest unacknowledged entry. */
  online(link: Link): void {
    this.link = link;
    this.inflight = [];
    this.cursor = this.opts.outbox.head;
    this.blocked = undefined;
    this.prefetch = undefined;
    this.kick();
  }

  /** The link went down: whatever was in flight is resent on the next link. */
  offline(): void {
    this.link = undefined;
    this.inflight = [];
    this.prefetch = undefined;
    this.clearTimer();
    this.blocked = undefined;
    for (const c of this.control.splice(0)) c.reject(new Error('uplink connection lost'));
    this.wakeIdle();
  }

  /** A publish outside the outbox (the gateway's status), paced by the same token bucket. */
  publishControl(topic: string, payload: Buffer, retain: boolean): Promise<void> {
    if (!this.link) return Promise.reject(new Error('uplink not connected'));
    return new Promise<void>((resolve, reject) => {
      this.control.push({ topic, payload, retain, resolve, reject });
      this.kick();
    });
  }

  /** Stops taking new entries and waits (at most `timeoutMs`) for the PUBACKs of those in flight. */
  async drain(timeoutMs: number): Promise<void> {
    this.blocked = 'draining';
    this.clearTimer();
    if (this.inflight.length === 0 || !this.link) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => { clearTimeout(timer); resolve(); });
    });
  }

  stop(): void {
    this.unsubscribe();
    this.unsubscribeCommitted();
    this.offline();
    this.blocked = 'draining';
    this.gzip?.close();
  }

  get inflightCount(): number { return this.inflight.length; }

  // ---- scheduling ----------------------------------------------------------------------------------

  private onStaged(size: number, receivedAt: number): void {
    this.staged.count += 1;
    this.staged.bytes += size;
    if (!this.link || this.blocked !== 'data') return;
    if (this.staged.count >= this.want.count || this.staged.bytes >= this.want.bytes) this.kick();
    else if (this.timer === undefined) this.arm(receivedAt + this.opts.maxAgeMs - Date.now());
  }

  /** Runs the pump soon (coalesced; never inside the broker's stage() call). */
  private kick(): void {
    if (this.blocked === 'draining') return;
    this.blocked = undefined;
    this.clearTimer();
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => { this.kickScheduled = false; void this.pump(); });
  }

  private arm(ms: number): void {
    const due = Date.now() + Math.max(0, ms);
    if (this.timer !== undefined && this.timerDue <= due) return;
    this.clearTimer();
    this.timerDue = due;
    this.timer = setTimeout(() => { this.timer = undefined; this.kick(); }, Math.max(0, ms));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined; }
  }

  private async pump(): Promise<void> {
    if (this.pumping) { this.pumpAgain = true; return; }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.fill();
        // Kicked while filling (an ack, a status publish): whatever fill() found blocking it may be gone.
        if (this.pumpAgain && this.blocked !== 'draining') this.blocked = undefined;
      } while (this.pumpAgain && this.link && this.blocked === undefined);
    } catch (err) {
      this.opts.log.error({ event: 'uplink_send_failed', err }, 'preparing an uplink publish failed; reconnecting');
      this.link?.destroy();
    } finally {
      this.pumping = false;
    }
  }

  /** Sends as much as the limits allow; returns with `blocked` saying what it waits for. */
  private async fill(): Promise<void> {
    const link = this.link;
    while (link && this.link === link && this.blocked === undefined) {
      const control = this.control[0];
      if (control) {
        if (!this.takeToken()) return;
        this.control.shift();
        link.publish(control.topic, control.payload, control.retain).then(control.resolve, control.reject);
        continue;
      }
      if (this.inflight.length >= this.opts.inflight) { this.blocked = 'inflight'; return; }
      if (!this.hasToken()) return;
      const units = await this.nextUnits();
      if (this.link !== link) return;
      for (const unit of units) {
        if (unit.drop) { this.inflight.push(unit); this.cursor = lastSeq(unit) + 1; continue; }
        if (!this.takeToken()) break;
        this.send(link, unit);
      }
      this.settle();
      if (units.length === 0) return;
    }
  }

  private hasToken(): boolean {
    if (!this.bucket) return true;
    const wait = this.bucket.waitMs();
    if (wait === 0) return true;
    this.blocked = 'tokens';
    this.arm(wait);
    return false;
  }

  private takeToken(): boolean {
    if (!this.bucket || this.bucket.take()) return true;
    this.blocked = 'tokens';
    this.arm(this.bucket.waitMs());
    return false;
  }

  // ---- what to send next -----------------------------------------------------------------------------

  private async nextUnits(): Promise<Unit[]> {
    const outbox = this.opts.outbox;
    const from = Math.max(this.cursor, outbox.head);
    if (outbox.lastStaged < from) return this.waitForData(this.readyMessages, Infinity);
    const mirror = this.opts.mode === 'mirror';
    const room = mirror ? Math.min(this.opts.inflight - this.inflight.length, this.bucket ? Math.max(1, this.bucket.remaining()) : Infinity) : this.opts.maxMessages;
    const entries = await this.read(from, room);
    if (entries.length === 0) return this.waitForCommit();
    return mirror ? this.mirrorUnits(entries) : this.batchUnit(entries, from, entries.length === room);
  }

  /** Entries from `from` on: the prefetched ones when the prefetch started there, else a fresh read. */
  private async read(from: number, limit: number): Promise<StoredEntry[]> {
    const prefetch = this.prefetch;
    this.prefetch = undefined;
    const entries = prefetch?.from === from ? await prefetch.entries : undefined;
    if (!entries) return this.opts.outbox.read(from, limit);
    // Read a while ago: drop what has been removed since (acknowledged or dropped by a cap).
    const head = this.opts.outbox.head;
    return entries[0] !== undefined && entries[0].seq < head ? entries.filter((e) => e.seq >= head) : entries;
  }

  private async batchUnit(entries: StoredEntry[], from: number, readWasFull: boolean): Promise<Unit[]> {
    const o = this.opts;
    const limit = payloadLimit(o.batchTopic, o.maxPacketBytes);
    const oldestAt = entries[0]?.receivedAt ?? Date.now();
    const ready = this.readyMessages;
    // A batch worth sending is staged and the rest of it is in its group commit: wait for that (the
    // outbox says when) instead of encoding a part now and all of it again in a moment.
    if (entries.length < ready && o.outbox.lastStaged - from + 1 >= ready && Date.now() - oldestAt < o.maxAgeMs) return this.waitForCommit(oldestAt + o.maxAgeMs - Date.now());
    const encoded = await encodeBatch(entries, { gatewayId: o.gatewayId, outboxId: o.outbox.outboxId }, { maxMessages: o.maxMessages, maxBytes: limit });
    if (!encoded) return [];
    if (encoded.kind === 'too_large') return [{ entries: [encoded.entry], topic: o.batchTopic, payload: Buffer.alloc(0), acked: true, drop: 'too_large' }];
    if (!encoded.full && encoded.taken < ready && Date.now() - oldestAt < o.maxAgeMs) {
      // Counted from what is staged, not from what was readable: entries still in their group commit
      // are on their way.
      return this.waitForData(ready - (o.outbox.lastStaged - from + 1), (limit - encoded.json.length) / 2, oldestAt + o.maxAgeMs - Date.now());
    }
    this.commitWaitSince = undefined;
    const taken = entries.slice(0, encoded.taken);
    if (readWasFull) {
      // A backlog: read the next batch while this one is compressed and sent.
      const next = (taken[taken.length - 1] as StoredEntry).seq + 1;
      this.prefetch = { from: next, entries: o.outbox.read(next, o.maxMessages).catch(() => undefined) };
    }
    const payload = await compressIfPays(encoded.json, this.gzip);
    return [{ entries: taken, topic: o.batchTopic, payload, acked: false }];
  }

  private mirrorUnits(entries: StoredEntry[]): Unit[] {
    this.commitWaitSince = undefined;
    return entries.map((e) => payloadLimit(e.topic, this.opts.maxPacketBytes) < e.payload.length
      ? { entries: [e], topic: e.topic, payload: Buffer.alloc(0), acked: true, drop: 'too_large' as const }
      : { entries: [e], topic: e.topic, payload: e.payload, acked: false });
  }

  /** Entries are staged but not readable yet: their group commit has not landed (`ageMs`: when the readable ones are due). */
  private waitForCommit(ageMs?: number): [] {
    const now = Date.now();
    this.commitWaitSince ??= now;
    // Still missing after this long: a failed commit left a gap. Wait for new data, or until the
    // readable part of the batch is due by age.
    if (now - this.commitWaitSince > COMMIT_WAIT_MAX_MS) return this.waitForData(1, Infinity, ageMs);
    this.blocked = 'commit';
    this.arm(COMMIT_POLL_MS);
    return [];
  }

  /**
   * Not enough for a batch yet: wait until `count` more entries (or about `bytes` more bytes —
   * halved because JSON and base64 make a message larger than its entry) are staged, or `ageMs`.
   */
  private waitForData(count: number, bytes: number, ageMs?: number): [] {
    this.blocked = 'data';
    this.want = { count: this.opts.mode === 'mirror' ? 1 : Math.max(1, count), bytes };
    this.staged = { count: 0, bytes: 0 };
    if (ageMs !== undefined) this.arm(ageMs);
    return [];
  }

  // ---- sending and acknowledging -----------------------------------------------------------------------

  private send(link: Link, unit: Unit): void {
    this.inflight.push(unit);
    this.cursor = lastSeq(unit) + 1;
    link.publish(unit.topic, unit.payload).then(
      () => {
        if (this.link !== link) return;
        unit.acked = true;
        this.settle();
      },
      (err: unknown) => {
        // A lost link is handled by offline(); anything else means this connection is unusable.
        if (this.link === link && link.up) {
          this.opts.log.warn({ event: 'uplink_publish_failed', err }, 'an uplink publish failed; reconnecting');
          link.destroy();
        }
      },
    );
  }

  /** Applies acknowledgements in send order and removes the entries from the outbox. */
  private settle(): void {
    let freed = false;
    while (this.inflight[0]?.acked) {
      const unit = this.inflight.shift() as Unit;
      freed = true;
      if (unit.drop) {
        this.opts.outbox.remove(unit.entries, unit.drop);
        continue;
      }
      this.opts.outbox.remove(unit.entries);
      this.counters.batches += 1;
      this.counters.messages += unit.entries.length;
      this.counters.payloadBytes += unit.payload.length;
      this.sendRate.add(unit.entries.length);
    }
    if (this.inflight.length === 0) this.wakeIdle();
    if (freed && this.blocked === 'inflight') this.kick();
  }

  private wakeIdle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

function lastSeq(unit: Unit): number {
  return (unit.entries[unit.entries.length - 1] as StoredEntry).seq;
}
