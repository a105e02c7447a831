import type { Duplex } from 'node:stream';

/**
 * Follows the MQTT packet boundaries of one connection's inbound bytes by reading only the fixed
 * headers (type byte + "remaining length" varint) and skipping the bodies, so that a packet announcing
 * more than the limit is refused as soon as its header arrives. aedes' parser (mqtt-packet) has no size
 * limit and would otherwise buffer the whole packet — 256 MB is a legal MQTT length — before aedes
 * sees it. The cost is a few comparisons per packet and no copying.
 */
export class PacketSizeGuard {
  /** Bytes of the current packet's body still to skip. */
  private skip = 0;
  /** Inside a remaining-length varint: its value so far, multiplier and bytes read. */
  private inLength = false;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  /** The announced length of the packet that broke the limit (for the log). */
  announced = 0;

  constructor(private readonly maxRemainingLength: number) {}

  /** Feeds the next bytes; false when a packet breaks the limit or its header is malformed. */
  inspect(chunk: Buffer): boolean {
    let i = 0;
    const end = chunk.length;
    while (i < end) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - i);
        this.skip -= n;
        i += n;
        continue;
      }
      if (!this.inLength) {
        // First byte of a fixed header: packet type and flags (aedes judges those).
        this.inLength = true;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        i += 1;
        continue;
      }
      const byte = chunk[i] as number;
      i += 1;
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes += 1;
      if (byte & 0x80) {
        // MQTT allows at most four length bytes; a fifth is a malformed packet.
        if (this.lengthBytes >= 4) { this.announced = this.length; return false; }
        continue;
      }
      this.inLength = false;
      if (this.length > this.maxRemainingLength) { this.announced = this.length; return false; }
      this.skip = this.length;
    }
    return true;
  }
}

/**
 * Watches what aedes reads from `socket` and destroys the connection when a packet is too large.
 * Call it after `aedes.handle(socket)`: aedes reads with 'readable' + read(), and a 'data' listener
 * added then sees every chunk exactly when aedes reads it, without switching the stream to flowing
 * mode. Destroying the socket there leaves aedes' parser holding at most that one chunk.
 */
export function guardPacketSize(socket: Duplex, maxRemainingLength: number, onRefused: (announcedBytes: number) => void): void {
  const guard = new PacketSizeGuard(maxRemainingLength);
  const onData = (chunk: Buffer): void => {
    if (guard.inspect(chunk)) return;
    socket.off('data', onData);
    onRefused(guard.announced);
    socket.destroy();
  };
  socket.on('data', onData);
}
