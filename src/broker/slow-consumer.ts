import type { Duplex } from 'node:stream';

/**
 * Keeps one client that stops reading from stalling everyone else.
 *
 * aedes writes a packet with `stream.write()` and, when that returns false (more than the socket's
 * 16 KB high-water mark is waiting), holds the delivery until 'drain' (lib/write.js). A held delivery
 * keeps one of the router's slots (mqemitter `concurrency`) and the publishing client's reading (aedes
 * reads a client's next packets only once the previous ones are routed), so a subscriber that stops
 * reading stalls every publisher whose messages it receives, until aedes' drainTimeout disconnects it.
 *
 * Here a write reports success as long as the connection holds at most `limit` bytes that the kernel
 * has not taken yet: the bytes wait in the socket's buffer and aedes goes on. Past the limit the
 * client is not keeping up, and its connection is destroyed (`onSlow` says so first). Memory per
 * connection is bounded by the limit plus one packet; nobody waits for a slow reader.
 *
 * `unsentByteCap` makes one write function for every connection of a listener (it finds the
 * connection in `this`), so a connection costs no closure of its own; `capUnsentBytes` caps one stream.
 */
export function unsentByteCap(limit: number, onSlow: (stream: Duplex, unsentBytes: number) => void): (stream: Duplex) => void {
  const capped = function writeWithoutBackpressure(this: Duplex, ...args: Parameters<Duplex['write']>): boolean {
    const write = Object.getPrototypeOf(this).write as Duplex['write'];
    write.apply(this, args);
    if (this.writableLength > limit && !this.destroyed) {
      onSlow(this, this.writableLength);
      this.destroy();
    }
    return true;
  } as Duplex['write'];
  return (stream) => { stream.write = capped; };
}

export function capUnsentBytes(socket: Duplex, limit: number, onSlow: (unsentBytes: number) => void): void {
  unsentByteCap(limit, (_stream, unsent) => onSlow(unsent))(socket);
}
