import type { PacketInput } from './types.js';

/**
 * The shape aedes-packet 4's `new Packet(original)` gives a packet, which is how the in-memory
 * reference persistence copies packets it queues (outgoing) or stores (incoming QoS 2): known
 * fields only (e.g. the wire `length` is dropped), defaults filled in, and the messageId cleared
 * for QoS > 0 because the broker assigns it per delivery. Re-implemented here rather than importing
 * aedes-packet, which is only a transitive dependency; keep in step with it when upgrading aedes.
 */
export function toQueuedPacket(original: PacketInput): Record<string, unknown> {
  const packet: Record<string, unknown> = {};
  const own = (name: string): boolean => Object.prototype.hasOwnProperty.call(original, name);
  if (own('clientId')) packet['clientId'] = original.clientId;
  if (own('nl')) packet['nl'] = original.nl;
  // MQTT 5 properties and the broker's absolute expiry time must survive queueing.
  if (own('properties')) packet['properties'] = original.properties;
  if (own('messageExpiry')) packet['messageExpiry'] = original.messageExpiry;

  packet['cmd'] = original.cmd || 'publish';
  packet['brokerId'] = original.brokerId || undefined;
  packet['brokerCounter'] = original.brokerCounter || 0;
  packet['topic'] = original.topic;
  packet['payload'] = original.payload || Buffer.alloc(0);
  const qos = original.qos || 0;
  packet['qos'] = qos;
  packet['retain'] = original.retain || false;
  packet['dup'] = original.dup || false;
  // [MQTT-2.3.1-5]: a packet identifier only exists for QoS > 0 (and non-PUBLISH packets).
  if (qos > 0 || packet['cmd'] !== 'publish') packet['messageId'] = undefined;
  return packet;
}
