import { Readable } from 'node:stream';
import { clientKey, clientRange, decodeSeq, encodeMessageId, encodeSeq, parseClientKey, SUBLEVEL } from './keys.js';
import { OutgoingIndex, type QueuedEntry } from './outgoing-index.js';
import { decodePacket, decodeParts, encodePacket, encodeParts, fromParts, PayloadKind, toParts } from './packet-codec.js';
import { toQueuedPacket } from './queued-packet.js';
import { parseStoredSubscription, SubscriptionIndex } from './subscription-index.js';
import { parseTopicFilter, topicMatches } from './topic-match.js';
import type {
  BrokerRef,
  ClientRef,
  PacketInput,
  StoredPacket,
  StoredSubscription,
  SubscriptionInput,
  TopicSubscription,
} from './types.js';
import { type BatchOp, type PersistenceDb, type Sublevel, WriteQueue } from './write-queue.js';
import type { Logger } from '../../log.js';
import { UNCACHED } from '../../store/scan.js';

export type { PersistenceDb } from './write-queue.js';

export interface LevelPersistenceOptions<V = unknown> {
  /**
   * Where to keep the sessions: a sublevel (or database) of the gateway's LevelDB, with any default
   * value encoding; nested sublevels with explicit encodings are created in it. It is not closed by
   * destroy().
   */
  db: PersistenceDb<V>;
  /** LevelDB `sync` writes (fsync before resolving). Default false: survives a process crash, not a power cut. */
  sync?: boolean;
  /**
   * Most packets queued for one client while it is not connected (0 or absent = no cap). Past it the
   * oldest queued PUBLISHes are dropped, counted (`queueDropped`) and logged once per episode
   * (docs/RELIABILITY.md "Offline queues").
   */
  maxQueuedPerClient?: number;
  log?: Logger;
}

/** A client whose queue is dropping messages: since when, and how many so far. */
interface DropEpisode { since: number; dropped: number }

/** Payload kinds whose bytes live in the `outgoing-payload` sublevel. */
function hasBytes(kind: PayloadKind): boolean {
  return kind === PayloadKind.Bytes || kind === PayloadKind.Text;
}

// Stored records are written only by this class, so a decoded one has the packet shape.
function asPacket(record: Record<string, unknown>): StoredPacket {
  return record as StoredPacket;
}

const STREAM_CHUNK = 64;
/** What outgoingEnqueueCombi answers when there is nobody to queue for (aedes only awaits it). */
const NOTHING_TO_WRITE: Promise<void> = Promise.resolve();

/**
 * aedes 1.x persistence on LevelDB (the async interface of aedes-persistence 11, MQTT 3.1.1).
 *
 * Subscriptions and the headers of queued outgoing packets are indexed in memory (loaded in
 * setup()); retained messages, payloads, incoming QoS 2 packets and wills are read from LevelDB.
 * Every change is written through an ordered write queue before the returned promise resolves.
 * Key layout and limits: docs/PERSISTENCE.md.
 */
export class LevelPersistence<V = unknown> {
  readonly #retained: Sublevel<V, Buffer>;
  readonly #subscriptions: Sublevel<V, unknown>;
  readonly #outgoing: Sublevel<V, Buffer>;
  readonly #outgoingPayload: Sublevel<V, Buffer>;
  readonly #incoming: Sublevel<V, Buffer>;
  readonly #wills: Sublevel<V, Buffer>;
  readonly #writes: WriteQueue<V>;

  readonly #subIndex = new SubscriptionIndex();
  readonly #queue = new OutgoingIndex();
  #nextSeq = 1;
  #broker: BrokerRef | undefined;
  #state: 'new' | 'ready' | 'destroyed' = 'new';
  readonly #maxQueued: number;
  readonly #log: Logger | undefined;
  /** Clients whose queue dropped messages since they were last connected; ended when they reconnect. */
  readonly #dropping = new Map<string, DropEpisode>();
  #dropped = 0;

  constructor(options: LevelPersistenceOptions<V>) {
    const db = options.db;
    const binary = { keyEncoding: 'utf8', valueEncoding: 'buffer' } as const;
    this.#retained = db.sublevel<string, Buffer>(SUBLEVEL.retained, binary);
    this.#subscriptions = db.sublevel<string, unknown>(SUBLEVEL.subscriptions, { keyEncoding: 'utf8', valueEncoding: 'json' });
    this.#outgoing = db.sublevel<string, Buffer>(SUBLEVEL.outgoing, binary);
    this.#outgoingPayload = db.sublevel<string, Buffer>(SUBLEVEL.outgoingPayload, binary);
    this.#incoming = db.sublevel<string, Buffer>(SUBLEVEL.incoming, binary);
    this.#wills = db.sublevel<string, Buffer>(SUBLEVEL.wills, binary);
    this.#writes = new WriteQueue(db, options.sync ?? false);
    this.#maxQueued = options.maxQueuedPerClient ?? 0;
    this.#log = options.log;
  }

  /** Queued messages dropped at `maxQueuedPerClient` since this persistence was made. */
  get queueDropped(): number {
    return this.#dropped;
  }

  /** The broker passed to setup() (the conformance suite reads it). */
  get broker(): BrokerRef | undefined {
    return this.#broker;
  }

  /** Loads the in-memory indexes from LevelDB. aedes awaits it in listen(); nothing works before. */
  async setup(broker: BrokerRef): Promise<void> {
    if (this.#state === 'destroyed') throw new Error('LevelPersistence has been destroyed');
    this.#broker = broker;
    this.#state = 'new';
    this.#subIndex.clear();
    this.#queue.clear();
    this.#dropping.clear();
    await this.#writes.barrier();

    for await (const [key, value] of this.#subscriptions.iterator(UNCACHED)) {
      const parsed = parseClientKey(key);
      const record = parseStoredSubscription(value);
      if (!parsed || !record) throw new Error(`malformed subscription record ${JSON.stringify(key)}`);
      this.#subIndex.load(parsed.clientId, parsed.rest, record);
    }

    let maxSeq = 0;
    for await (const [key, value] of this.#outgoing.iterator(UNCACHED)) {
      const parsed = parseClientKey(key);
      const seq = parsed && decodeSeq(parsed.rest);
      if (!parsed || seq === undefined) throw new Error(`malformed outgoing queue key ${JSON.stringify(key)}`);
      const { fields, kind } = decodeParts(value);
      this.#queue.append(parsed.clientId, { key, fields, kind, live: true });
      if (seq > maxSeq) maxSeq = seq;
    }
    // The counter is not stored: the highest key in use is the only thing it must stay above.
    this.#nextSeq = maxSeq + 1;
    this.#state = 'ready';
  }

  // ---- retained messages -------------------------------------------------------------------

  async storeRetained(packet: PacketInput): Promise<void> {
    this.#assertReady();
    const topic = packet.topic;
    if (typeof topic !== 'string') throw new TypeError('retained packet has no topic');
    // MQTT-3.3.1-10/11: a retained PUBLISH with an empty payload removes the retained message.
    const op: BatchOp<V> = (packet.payload?.length ?? 0) === 0
      ? { type: 'del', key: topic, sublevel: this.#retained }
      : { type: 'put', key: topic, value: encodePacket(packet), sublevel: this.#retained };
    await this.#writes.batch([op]);
  }

  createRetainedStreamCombi(patterns: readonly string[]): Readable {
    return Readable.from(this.#retainedMatching(patterns));
  }

  /** Deprecated in aedes-persistence, still part of its interface. */
  createRetainedStream(pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern]);
  }

  async *#retainedMatching(patterns: readonly string[]): AsyncGenerator<StoredPacket> {
    this.#assertReady();
    await this.#writes.barrier();
    // A topic matching several of the patterns is sent once.
    const seen = new Set<string>();
    for (const pattern of patterns) {
      const filter = parseTopicFilter(pattern);
      if (filter.exact) {
        if (seen.has(pattern)) continue;
        const value = await this.#retained.get(pattern);
        if (value === undefined) continue;
        seen.add(pattern);
        yield asPacket(decodePacket(value));
        continue;
      }
      // Scan only the keys that start with the filter's literal part (all keys for '#', '+/…').
      const range = filter.prefix === '' ? {} : { gte: filter.prefix };
      for await (const [topic, value] of this.#retained.iterator(range)) {
        if (!topic.startsWith(filter.prefix)) break;
        if (seen.has(topic) || !topicMatches(filter, topic)) continue;
        seen.add(topic);
        yield asPacket(decodePacket(value));
      }
    }
  }

  // ---- subscriptions -----------------------------------------------------------------------

  async addSubscriptions(client: ClientRef, subs: readonly SubscriptionInput[]): Promise<void> {
    this.#assertReady();
    const changes = this.#subIndex.add(client.id, subs);
    await this.#writes.batch(changes.map(([topic, record]): BatchOp<V> => (
      { type: 'put', key: clientKey(client.id, topic), value: record, sublevel: this.#subscriptions }
    )));
  }

  async removeSubscriptions(client: ClientRef, topics: readonly string[]): Promise<void> {
    this.#assertReady();
    const removed = this.#subIndex.remove(client.id, topics);
    await this.#writes.batch(removed.map((topic): BatchOp<V> => (
      { type: 'del', key: clientKey(client.id, topic), sublevel: this.#subscriptions }
    )));
  }

  async subscriptionsByClient(client: ClientRef): Promise<Array<{ topic: string } & StoredSubscription>> {
    this.#assertReady();
    return this.#subIndex.byClient(client.id);
  }

  async countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    this.#assertReady();
    return this.#subIndex.count();
  }

  /**
   * aedes asks for every QoS 1 and 2 message, to queue it for persistent sessions. Not an async
   * function: the answer is in memory, and a plain resolved promise is cheaper per message.
   */
  subscriptionsByTopic(topic: string): Promise<TopicSubscription[]> {
    return this.#notReady() ?? Promise.resolve(this.#subIndex.byTopic(topic));
  }

  async cleanSubscriptions(client: ClientRef): Promise<void> {
    this.#assertReady();
    this.#subIndex.clean(client.id);
    await this.#writes.run(() => this.#subscriptions.clear(clientRange(client.id)));
  }

  /** Client ids subscribed to exactly this topic filter. */
  getClientList(topic: string): Readable {
    this.#assertReady();
    return Readable.from(this.#subIndex.clientsWith(topic));
  }

  // ---- outgoing queue ----------------------------------------------------------------------

  async outgoingEnqueue(sub: { clientId: string }, packet: PacketInput): Promise<void> {
    await this.outgoingEnqueueCombi([sub], packet);
  }

  /** aedes calls this for every QoS 1 and 2 message, mostly with no subscriber: that case writes nothing. */
  outgoingEnqueueCombi(subs: ReadonlyArray<{ clientId: string }>, packet: PacketInput): Promise<void> {
    return this.#notReady() ?? (subs.length === 0 ? NOTHING_TO_WRITE : this.#enqueue(subs, packet));
  }

  async #enqueue(subs: ReadonlyArray<{ clientId: string }>, packet: PacketInput): Promise<void> {
    const { fields, kind, bytes } = toParts(toQueuedPacket(packet));
    const header = encodeParts(fields, kind, undefined);
    const ops: BatchOp<V>[] = [];
    for (const sub of subs) {
      const key = clientKey(sub.clientId, encodeSeq(this.#nextSeq++));
      this.#queue.append(sub.clientId, { key, fields: { ...fields }, kind, live: true });
      ops.push({ type: 'put', key, value: header, sublevel: this.#outgoing });
      // One copy of the payload per client keeps each queue entry independent.
      if (bytes !== undefined) ops.push({ type: 'put', key, value: bytes, sublevel: this.#outgoingPayload });
      this.#capQueue(sub.clientId, ops);
    }
    await this.#writes.batch(ops);
  }

  /**
   * Keeps an offline client's queue at `maxQueuedPerClient`: the oldest PUBLISHes go, in the same
   * batch as the new one, so the store never holds more. A connected client is left alone: its
   * queue holds only what aedes is delivering right now, and dropping one of those between aedes'
   * enqueue and its outgoingUpdate would close the connection ("no such packet").
   */
  #capQueue(clientId: string, ops: BatchOp<V>[]): void {
    const max = this.#maxQueued;
    if (max <= 0) return;
    const excess = this.#queue.size(clientId) - max;
    if (excess <= 0 || this.#broker?.clients?.[clientId] !== undefined) return;
    const dropped = this.#queue.dropOldest(clientId, excess);
    if (dropped.length === 0) return;
    for (const entry of dropped) {
      ops.push({ type: 'del', key: entry.key, sublevel: this.#outgoing }, { type: 'del', key: entry.key, sublevel: this.#outgoingPayload });
    }
    this.#dropped += dropped.length;
    const episode = this.#dropping.get(clientId);
    if (episode) { episode.dropped += dropped.length; return; }
    this.#dropping.set(clientId, { since: Date.now(), dropped: dropped.length });
    this.#log?.warn({ event: 'mqtt_queue_full', client_id: clientId, limit: max },
      `the offline queue of ${clientId} is full (mqtt.max_queued_messages_per_client = ${max}): its oldest messages are dropped until it reconnects`);
  }

  /** A client that reconnects (aedes streams its queue) ends its drop episode: one summary line. */
  #endDropEpisode(clientId: string): void {
    const episode = this.#dropping.get(clientId);
    if (!episode) return;
    this.#dropping.delete(clientId);
    this.#log?.info({ event: 'mqtt_queue_dropped', client_id: clientId, dropped: episode.dropped, limit: this.#maxQueued, seconds: Math.round((Date.now() - episode.since) / 1000) },
      `${episode.dropped} of the messages queued for ${clientId} while it was offline were dropped (mqtt.max_queued_messages_per_client = ${this.#maxQueued})`);
  }

  async outgoingUpdate(client: ClientRef, packet: PacketInput): Promise<void> {
    this.#assertReady();
    const match = this.#queue.findForUpdate(client.id, packet);
    if (!match) throw new Error('no such packet');
    const { entry } = match;
    const ops: BatchOp<V>[] = [];
    if (match.mode === 'setMessageId') {
      entry.fields['messageId'] = packet.messageId;
    } else {
      const parts = toParts(packet);
      entry.fields = parts.fields;
      entry.kind = parts.kind;
      ops.push(parts.bytes !== undefined
        ? { type: 'put', key: entry.key, value: parts.bytes, sublevel: this.#outgoingPayload }
        : { type: 'del', key: entry.key, sublevel: this.#outgoingPayload });
    }
    ops.push({ type: 'put', key: entry.key, value: encodeParts(entry.fields, entry.kind, undefined), sublevel: this.#outgoing });
    await this.#writes.batch(ops);
  }

  /** Removes the first queued packet with the packet's messageId and returns it (undefined if none). */
  async outgoingClearMessageId(client: ClientRef, packet: { messageId?: number | undefined }): Promise<StoredPacket | undefined> {
    this.#assertReady();
    // aedes-persistence's suite passes a bare number here; it has no messageId.
    const messageId = typeof packet === 'object' && packet !== null ? packet.messageId : undefined;
    const entry = this.#queue.take(client.id, messageId);
    if (!entry) return undefined;
    let bytes: Buffer | undefined;
    if (hasBytes(entry.kind)) {
      await this.#writes.barrier();
      bytes = await this.#outgoingPayload.get(entry.key);
    }
    await this.#writes.batch([
      { type: 'del', key: entry.key, sublevel: this.#outgoing },
      { type: 'del', key: entry.key, sublevel: this.#outgoingPayload },
    ]);
    return asPacket(fromParts({ fields: entry.fields, kind: entry.kind, bytes }));
  }

  /** The client's queue as of this call, in enqueue order; packets cleared meanwhile are skipped. */
  outgoingStream(client: ClientRef): Readable {
    this.#assertReady();
    this.#endDropEpisode(client.id);
    const entries = this.#queue.snapshot(client.id);
    const flushed = this.#writes.barrier();
    flushed.catch(() => undefined); // observed in #readQueued; never an unhandled rejection
    return Readable.from(this.#readQueued(entries, flushed));
  }

  async *#readQueued(entries: QueuedEntry[], flushed: Promise<void>): AsyncGenerator<StoredPacket> {
    await flushed;
    for (let i = 0; i < entries.length; i += STREAM_CHUNK) {
      // Header and kind as of the payload read, so the two belong together.
      const chunk = entries.slice(i, i + STREAM_CHUNK)
        .filter((e) => e.live)
        .map((e) => ({ entry: e, fields: e.fields, kind: e.kind }));
      const keys = chunk.filter((c) => hasBytes(c.kind)).map((c) => c.entry.key);
      const payloads = keys.length > 0 ? await this.#outgoingPayload.getMany(keys) : [];
      let p = 0;
      for (const c of chunk) {
        if (!c.entry.live) continue;
        if (!hasBytes(c.kind)) {
          yield asPacket(fromParts({ fields: c.fields, kind: c.kind, bytes: undefined }));
          continue;
        }
        const bytes = payloads[p++];
        if (bytes !== undefined) {
          yield asPacket(fromParts({ fields: c.fields, kind: c.kind, bytes }));
        } else if (!hasBytes(c.entry.kind)) {
          // Replaced by a payload-less packet (PUBREL) while the payloads were being read.
          yield asPacket(fromParts({ fields: c.entry.fields, kind: c.entry.kind, bytes: undefined }));
        }
      }
    }
  }

  // ---- incoming QoS 2 packets --------------------------------------------------------------

  async incomingStorePacket(client: ClientRef, packet: PacketInput): Promise<void> {
    this.#assertReady();
    const messageId = requireMessageId(packet);
    const stored = toQueuedPacket(packet);
    stored['messageId'] = messageId;
    await this.#writes.batch([
      { type: 'put', key: clientKey(client.id, encodeMessageId(messageId)), value: encodePacket(stored), sublevel: this.#incoming },
    ]);
  }

  async incomingGetPacket(client: ClientRef, packet: { messageId?: number | undefined }): Promise<StoredPacket> {
    this.#assertReady();
    const key = clientKey(client.id, encodeMessageId(requireMessageId(packet)));
    await this.#writes.barrier();
    const value = await this.#incoming.get(key);
    if (value === undefined) throw new Error('no such packet');
    return asPacket(decodePacket(value));
  }

  async incomingDelPacket(client: ClientRef, packet: { messageId?: number | undefined }): Promise<void> {
    this.#assertReady();
    const key = clientKey(client.id, encodeMessageId(requireMessageId(packet)));
    await this.#writes.barrier();
    if (!(await this.#incoming.has(key))) throw new Error('no such packet');
    await this.#writes.batch([{ type: 'del', key, sublevel: this.#incoming }]);
  }

  /** [MQTT-3.1.2-6]: a clean session drops the client's QoS 2 dedup state. */
  async cleanIncoming(client: ClientRef): Promise<void> {
    this.#assertReady();
    await this.#writes.run(() => this.#incoming.clear(clientRange(client.id)));
  }

  // ---- wills -------------------------------------------------------------------------------

  /** Stores the will, stamped (in place, as the reference persistence does) with broker and client id. */
  async putWill(client: ClientRef, packet: PacketInput): Promise<void> {
    const broker = this.#assertReady();
    packet.brokerId = broker.id;
    packet.clientId = client.id;
    await this.#writes.batch([{ type: 'put', key: client.id, value: encodePacket(packet), sublevel: this.#wills }]);
  }

  async getWill(client: ClientRef): Promise<StoredPacket | undefined> {
    this.#assertReady();
    await this.#writes.barrier();
    const value = await this.#wills.get(client.id);
    return value === undefined ? undefined : asPacket(decodePacket(value));
  }

  async delWill(client: ClientRef): Promise<StoredPacket | undefined> {
    this.#assertReady();
    await this.#writes.barrier();
    const value = await this.#wills.get(client.id);
    if (value === undefined) return undefined;
    await this.#writes.batch([{ type: 'del', key: client.id, sublevel: this.#wills }]);
    return asPacket(decodePacket(value));
  }

  /** Wills of brokers not in `brokers` (brokerId → last heartbeat): those are the dead brokers' wills. */
  streamWill(brokers: Readonly<Record<string, unknown>> = {}): Readable {
    return Readable.from(this.#willsNotOf(brokers));
  }

  async *#willsNotOf(brokers: Readonly<Record<string, unknown>>): AsyncGenerator<StoredPacket> {
    this.#assertReady();
    await this.#writes.barrier();
    for await (const value of this.#wills.values()) {
      const will = asPacket(decodePacket(value));
      const owner = will.brokerId;
      const alive = typeof owner === 'string' && Object.hasOwn(brokers, owner) && Boolean(brokers[owner]);
      if (!alive) yield will;
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /**
   * Waits for pending writes and stops using the database; does not close it (the gateway owns it).
   * Call after aedes has closed. Calling it again is a no-op.
   */
  async destroy(): Promise<void> {
    if (this.#state === 'destroyed') return;
    this.#state = 'destroyed';
    this.#dropping.clear();
    this.#subIndex.clear();
    this.#queue.clear();
    await this.#writes.close();
  }

  /** #assertReady for the methods that are not async functions: its error as a rejected promise. */
  #notReady(): Promise<never> | undefined {
    try {
      this.#assertReady();
      return undefined;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #assertReady(): BrokerRef {
    if (this.#state === 'destroyed') throw new Error('LevelPersistence has been destroyed');
    if (this.#state !== 'ready' || !this.#broker) throw new Error('LevelPersistence.setup() has not completed');
    return this.#broker;
  }
}

function requireMessageId(packet: { messageId?: number | undefined }): number {
  const id = packet.messageId;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffff) {
    throw new TypeError(`invalid messageId ${String(id)}`);
  }
  return id;
}
