/**
 * Minimal shapes of what aedes hands to a persistence. aedes' own `Client` and packet types are
 * wider than what is read here (and the conformance suite passes plain objects such as
 * `{ id: 'abcde' }`), so the persistence accepts these structural types.
 */

/**
 * The broker, as seen by the persistence: its id (wills record which broker owns them) and, when it
 * is aedes, the clients connected to it (the queue cap applies to the others).
 */
export interface BrokerRef {
  readonly id: string;
  readonly clients?: Readonly<Record<string, unknown>>;
}

export interface ClientRef {
  readonly id: string;
}

/** A SUBSCRIBE entry as aedes passes it (mqtt-packet's ISubscription plus MQTT 5 options). */
export interface SubscriptionInput {
  topic: string;
  qos: number;
  rh?: number | undefined;
  rap?: boolean | undefined;
  nl?: boolean | undefined;
  subscriptionIdentifier?: number | undefined;
}

/** What is stored per (client, topic) and returned by subscriptionsByClient (plus `topic`). */
export interface StoredSubscription {
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
  subscriptionIdentifier?: number;
}

/** One entry of subscriptionsByTopic: the QlobberSub value shape aedes-persistence uses. */
export interface TopicSubscription {
  clientId: string;
  topic: string;
  qos: number;
  rh?: number | undefined;
  rap?: boolean | undefined;
  nl?: boolean | undefined;
}

/** Any packet aedes stores: PUBLISH (aedes-packet), PUBREL, a will. Extra fields are kept. */
export interface PacketInput {
  cmd?: string | undefined;
  topic?: string | undefined;
  payload?: Buffer | Uint8Array | string | undefined;
  qos?: number | undefined;
  retain?: boolean | undefined;
  dup?: boolean | undefined;
  messageId?: number | undefined;
  brokerId?: string | undefined;
  brokerCounter?: number | undefined;
  clientId?: string | undefined;
  length?: number | undefined;
  properties?: object | undefined;
  messageExpiry?: number | undefined;
  nl?: boolean | undefined;
}

/** Packets handed back by the persistence: plain objects with the stored fields. */
export type StoredPacket = Record<string, unknown> & PacketInput;
