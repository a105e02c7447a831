/**
 * Outbox keys: the outbox sequence number as 16 hex digits, so that LevelDB's key order is sequence
 * order (oldest first). Sequence numbers are JavaScript safe integers (< 2^53): at 100,000 messages
 * a second that lasts 2,800 years.
 */
export const KEY_BYTES = 16;

export function seqKey(seq: number): string {
  return seq.toString(16).padStart(KEY_BYTES, '0');
}

export function parseSeqKey(key: string): number {
  const seq = Number.parseInt(key, 16);
  if (key.length !== KEY_BYTES || !Number.isSafeInteger(seq)) throw new Error(`not an outbox key: ${key}`);
  return seq;
}
