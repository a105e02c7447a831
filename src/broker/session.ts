import type { LevelPersistence } from './persistence/level-persistence.js';

/**
 * Removes everything a persistence keeps for one client: subscriptions, queued outgoing packets,
 * inbound QoS 2 state and its will. Uses only the aedes-persistence interface: queued packets are
 * cleared one by one by message id (a packet never sent has none, and `undefined` matches it).
 * Call it when the client is not connected.
 */
export async function removeSession(persistence: LevelPersistence, clientId: string): Promise<void> {
  const client = { id: clientId };
  await persistence.cleanSubscriptions(client);
  for await (const packet of persistence.outgoingStream(client)) {
    await persistence.outgoingClearMessageId(client, { messageId: (packet as { messageId?: number }).messageId });
  }
  await persistence.cleanIncoming(client);
  await persistence.delWill(client);
}
