import type { PayloadKind } from './packet-codec.js';

/**
 * One queued outgoing packet. Its header (every field but the payload) is kept in memory, so that
 * outgoingUpdate — called for every QoS > 0 delivery to a persistent session — can find the packet
 * and rewrite its header without reading LevelDB. The payload stays on disk only.
 */
export interface QueuedEntry {
  /** Key in both the `outgoing` (header) and `outgoing-payload` sublevels. */
  readonly key: string;
  fields: Record<string, unknown>;
  kind: PayloadKind;
  /** False once cleared; streams that snapshotted the queue skip it. */
  live: boolean;
}

/** How outgoingUpdate applies to the entry it found (the rules of the reference persistence). */
export type UpdateMatch = { entry: QueuedEntry; mode: 'setMessageId' | 'replace' };

/** Per client, its queued packets in enqueue order. */
export class OutgoingIndex {
  #byClient = new Map<string, QueuedEntry[]>();

  append(clientId: string, entry: QueuedEntry): void {
    const queue = this.#byClient.get(clientId);
    if (queue) queue.push(entry);
    else this.#byClient.set(clientId, [entry]);
  }

  /**
   * The first entry from the same broker with the same brokerCounter gets the new messageId (the
   * broker assigned one for this delivery); otherwise the first entry of another broker with the
   * same messageId is replaced (a PUBREL replacing its PUBLISH). messageId wraps at 65535, so the
   * brokerCounter is what identifies a packet of this broker.
   *
   * Unlike the in-memory reference, a packet without a brokerId (PUBREL) never takes the
   * brokerCounter branch: there `undefined === undefined` made the second PUBREL of a client
   * overwrite the messageId of the first one instead of replacing its own PUBLISH.
   */
  findForUpdate(clientId: string, packet: { brokerId?: unknown; brokerCounter?: unknown; messageId?: unknown }): UpdateMatch | undefined {
    const hasBroker = packet.brokerId !== undefined && packet.brokerId !== null;
    for (const entry of this.#byClient.get(clientId) ?? []) {
      if (hasBroker && entry.fields['brokerId'] === packet.brokerId) {
        if (entry.fields['brokerCounter'] === packet.brokerCounter) return { entry, mode: 'setMessageId' };
      } else if (entry.fields['messageId'] === packet.messageId) {
        return { entry, mode: 'replace' };
      }
    }
    return undefined;
  }

  /**
   * Removes and returns the first entry with this messageId. `undefined` matches a packet that was
   * never assigned one: aedes relies on that to drain queues of packets it never sent.
   */
  take(clientId: string, messageId: unknown): QueuedEntry | undefined {
    const queue = this.#byClient.get(clientId);
    if (!queue) return undefined;
    const at = queue.findIndex((e) => e.fields['messageId'] === messageId);
    if (at < 0) return undefined;
    const [entry] = queue.splice(at, 1);
    if (queue.length === 0) this.#byClient.delete(clientId);
    if (entry) entry.live = false;
    return entry;
  }

  /** How many packets are queued for the client (PUBLISHes and PUBRELs). */
  size(clientId: string): number {
    return this.#byClient.get(clientId)?.length ?? 0;
  }

  /**
   * Removes the client's `count` oldest PUBLISH packets and returns them. PUBRELs stay: each one
   * finishes a QoS 2 delivery the client already has, and they are few (one per message in flight).
   */
  dropOldest(clientId: string, count: number): QueuedEntry[] {
    const queue = this.#byClient.get(clientId);
    if (!queue || count <= 0) return [];
    const dropped: QueuedEntry[] = [];
    const kept: QueuedEntry[] = [];
    let i = 0;
    // The oldest entries are at the front: in a full queue of PUBLISHes this stops after `count`.
    for (; i < queue.length && dropped.length < count; i++) {
      const entry = queue[i] as QueuedEntry;
      if (entry.fields['cmd'] === 'pubrel') kept.push(entry);
      else { entry.live = false; dropped.push(entry); }
    }
    if (dropped.length > 0) queue.splice(0, i, ...kept);
    if (queue.length === 0) this.#byClient.delete(clientId);
    return dropped;
  }

  /** The client's queue as it is now (a copy of the list; entries are shared). */
  snapshot(clientId: string): QueuedEntry[] {
    return [...(this.#byClient.get(clientId) ?? [])];
  }

  clear(): void {
    for (const queue of this.#byClient.values()) for (const e of queue) e.live = false;
    this.#byClient = new Map();
  }
}
