import { createSubscriptionTrie } from './subscription-trie.js';
import type { StoredSubscription, SubscriptionInput, TopicSubscription } from './types.js';

/**
 * The offline subscriptions, in memory: per client its topics, and a topic trie of the QoS > 0 ones
 * (QoS 0 subscriptions are restored on reconnect but never get packets queued). Mirrors the
 * in-memory reference persistence of aedes-persistence; LevelPersistence persists the changes it
 * reports and reloads the index from LevelDB in setup().
 */
export class SubscriptionIndex {
  // Map keeps insertion order, so subscriptionsByClient lists topics in the order subscribed.
  #byClient = new Map<string, Map<string, StoredSubscription>>();
  #trie = createSubscriptionTrie();

  /** Applies SUBSCRIBE entries (a later entry for the same topic wins); returns what to store. */
  add(clientId: string, subs: readonly SubscriptionInput[]): Array<[topic: string, record: StoredSubscription]> {
    const changes: Array<[string, StoredSubscription]> = [];
    if (subs.length === 0) return changes;
    let stored = this.#byClient.get(clientId);
    if (!stored) {
      stored = new Map();
      this.#byClient.set(clientId, stored);
    }
    for (const sub of subs) {
      const record = toRecord(sub);
      this.#setTrie(clientId, sub.topic, record, stored.get(sub.topic));
      stored.set(sub.topic, record);
      changes.push([sub.topic, record]);
    }
    return changes;
  }

  /** Loads one stored subscription (setup). */
  load(clientId: string, topic: string, record: StoredSubscription): void {
    let stored = this.#byClient.get(clientId);
    if (!stored) {
      stored = new Map();
      this.#byClient.set(clientId, stored);
    }
    this.#setTrie(clientId, topic, record, stored.get(topic));
    stored.set(topic, record);
  }

  /** Removes topics; returns those the client actually had. */
  remove(clientId: string, topics: readonly string[]): string[] {
    const stored = this.#byClient.get(clientId);
    if (!stored) return [];
    const removed: string[] = [];
    for (const topic of topics) {
      const record = stored.get(topic);
      if (record === undefined) continue;
      if (record.qos > 0) this.#trie.remove(topic, { clientId, topic });
      stored.delete(topic);
      removed.push(topic);
    }
    if (stored.size === 0) this.#byClient.delete(clientId);
    return removed;
  }

  /** Drops every subscription of the client. */
  clean(clientId: string): void {
    const stored = this.#byClient.get(clientId);
    if (!stored) return;
    for (const [topic, record] of stored) {
      if (record.qos > 0) this.#trie.remove(topic, { clientId, topic });
    }
    this.#byClient.delete(clientId);
  }

  byClient(clientId: string): Array<{ topic: string } & StoredSubscription> {
    const stored = this.#byClient.get(clientId);
    if (!stored) return [];
    return [...stored].map(([topic, record]) => ({ topic, ...record }));
  }

  byTopic(topic: string): TopicSubscription[] {
    // The common case: no persistent session has a QoS 1 or 2 subscription (saves splitting the topic).
    if (this.#trie.subscriptionsCount === 0) return [];
    return this.#trie.match(topic);
  }

  /** Clients that have exactly this topic filter among their subscriptions (any QoS). */
  clientsWith(topic: string): string[] {
    const ids: string[] = [];
    for (const [clientId, stored] of this.#byClient) {
      if (stored.has(topic)) ids.push(clientId);
    }
    return ids;
  }

  count(): { subsCount: number; clientsCount: number } {
    return { subsCount: this.#trie.subscriptionsCount, clientsCount: this.#byClient.size };
  }

  clear(): void {
    this.#byClient = new Map();
    this.#trie = createSubscriptionTrie();
  }

  #setTrie(clientId: string, topic: string, record: StoredSubscription, previous: StoredSubscription | undefined): void {
    if (record.qos > 0) {
      this.#trie.add(topic, { clientId, topic, qos: record.qos, rh: record.rh, rap: record.rap, nl: record.nl });
    } else if (previous !== undefined && previous.qos > 0) {
      this.#trie.remove(topic, { clientId, topic });
    }
  }
}

/** Only the options that are set are kept, so a record looks the same before and after a restart. */
function toRecord(sub: SubscriptionInput): StoredSubscription {
  const record: StoredSubscription = { qos: sub.qos };
  if (sub.rh !== undefined) record.rh = sub.rh;
  if (sub.rap !== undefined) record.rap = sub.rap;
  if (sub.nl !== undefined) record.nl = sub.nl;
  // MQTT 5 Subscription Identifier: kept for subscriptionsByClient, not put in the trie (as upstream).
  if (sub.subscriptionIdentifier !== undefined) record.subscriptionIdentifier = sub.subscriptionIdentifier;
  return record;
}

/** Validates a subscription record read back from LevelDB. */
export function parseStoredSubscription(value: unknown): StoredSubscription | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const qos = v['qos'];
  if (typeof qos !== 'number') return undefined;
  const record: StoredSubscription = { qos };
  if (typeof v['rh'] === 'number') record.rh = v['rh'];
  if (typeof v['rap'] === 'boolean') record.rap = v['rap'];
  if (typeof v['nl'] === 'boolean') record.nl = v['nl'];
  if (typeof v['subscriptionIdentifier'] === 'number') record.subscriptionIdentifier = v['subscriptionIdentifier'];
  return record;
}
