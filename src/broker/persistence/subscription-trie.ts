import { createRequire } from 'node:module';
import type { TopicSubscription } from './types.js';

/**
 * The topic → subscriptions matcher: qlobber's QlobberSub, the same one aedes-persistence's
 * in-memory persistence uses, so subscriptionsByTopic returns the same entries in the same order.
 * qlobber ships no type declarations; this file declares the part that is used and loads it
 * through `require` (it is CommonJS) so the cast stays in one place.
 */
export interface SubscriptionTrie {
  /** Number of (client, topic) pairs held. */
  readonly subscriptionsCount: number;
  add(topic: string, value: TopicSubscription): unknown;
  remove(topic: string, value: { clientId: string; topic: string }): unknown;
  match(topic: string): TopicSubscription[];
  clear(): unknown;
}

type SubscriptionTrieConstructor = new (options: {
  wildcard_one: string;
  wildcard_some: string;
  separator: string;
}) => SubscriptionTrie;

const require = createRequire(import.meta.url);
const QlobberSub = require('qlobber/aedes/qlobber-sub') as SubscriptionTrieConstructor;

export function createSubscriptionTrie(): SubscriptionTrie {
  return new QlobberSub({ wildcard_one: '+', wildcard_some: '#', separator: '/' });
}
