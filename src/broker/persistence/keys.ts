/**
 * Key layout of the MQTT session persistence (documented in docs/PERSISTENCE.md).
 *
 * Per-client records use the key `esc(clientId) \x00 rest`. A bare `clientId + separator` prefix
 * would let the range of client `abc` also cover client `abc\x00…`, so the id is escaped first:
 * `\x01` → `\x01\x02`, `\x00` → `\x01\x01`. An escaped id never contains `\x00`, so the keys of one
 * client are exactly the range [esc(id) \x00, esc(id) \x01), and no other client's keys fall in it.
 */

/** Names of the nested sublevels (ASCII, sorting after the `!` sublevel separator). */
export const SUBLEVEL = {
  retained: 'retained',
  subscriptions: 'subs',
  outgoing: 'outgoing',
  outgoingPayload: 'outgoing-payload',
  incoming: 'incoming',
  wills: 'wills',
} as const;

const SEP = '\x00';
const SEP_END = '\x01';

export function escapeClientId(clientId: string): string {
  return clientId.replace(/\x01/g, '\x01\x02').replace(/\x00/g, '\x01\x01');
}

export function unescapeClientId(escaped: string): string {
  return escaped.replace(/\x01([\x01\x02])/g, (_m, c: string) => (c === '\x01' ? '\x00' : '\x01'));
}

/** Range options selecting every key of one client. */
export function clientRange(clientId: string): { gt: string; lt: string } {
  const esc = escapeClientId(clientId);
  return { gt: esc + SEP, lt: esc + SEP_END };
}

export function clientKey(clientId: string, rest: string): string {
  return escapeClientId(clientId) + SEP + rest;
}

/** Splits a per-client key back into its client id and the rest; undefined for a foreign key. */
export function parseClientKey(key: string): { clientId: string; rest: string } | undefined {
  const at = key.indexOf(SEP);
  if (at < 0) return undefined;
  return { clientId: unescapeClientId(key.slice(0, at)), rest: key.slice(at + 1) };
}

/**
 * Outgoing queue sequence numbers: 16 hex digits, so that string order is numeric order and a
 * client's queued packets iterate in the order they were enqueued.
 */
const SEQ_DIGITS = 16;

export function encodeSeq(seq: number): string {
  return seq.toString(16).padStart(SEQ_DIGITS, '0');
}

export function decodeSeq(text: string): number | undefined {
  if (text.length !== SEQ_DIGITS || !/^[0-9a-f]+$/.test(text)) return undefined;
  const n = Number.parseInt(text, 16);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Incoming (QoS 2) packets are keyed by message id: 4 hex digits covers 1..65535. */
export function encodeMessageId(messageId: number): string {
  return messageId.toString(16).padStart(4, '0');
}
