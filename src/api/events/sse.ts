/**
 * Server-sent events framing (HTML Living Standard, "Server-sent events"). Each frame is built once
 * and the same bytes are written to every subscriber, so a broadcast costs one JSON.stringify.
 */

/** `event: <name>` plus one `data:` line: JSON.stringify never emits a raw line break. */
export function sseFrame(event: string, data: unknown): Buffer {
  return Buffer.from(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** The reconnection delay a standard EventSource would use, sent first on every stream. */
export function sseRetry(ms: number): Buffer {
  return Buffer.from(`retry: ${ms}\n\n`);
}

/** A comment line: ignored by parsers, it keeps proxies and NAT tables from closing an idle stream. */
export const SSE_HEARTBEAT = Buffer.from(': heartbeat\n\n');
