import type { Writable } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { publishBytes, type PublishFields } from './publish-bytes.js';
import { takePuback } from './puback-gate.js';
import { writeCorked } from './write-coalescing.js';

/**
 * How aedes' packets reach a connection. aedes writes every packet with mqtt-packet's
 * `writeToStream`, which it looks up on the module at each call (lib/write.js), and offers no other
 * hook; so this replaces that one function, once, process-wide:
 *   - a PUBACK goes to the PUBACK gate of its connection first (src/broker/puback-gate.ts), which may
 *     keep it until its message is on disk;
 *   - a PUBLISH aedes writes is laid out in one buffer (src/broker/publish-bytes.ts) instead of
 *     mqtt-packet's five writes;
 *   - everything else, and every packet written with options (mqtt.js's uplink client passes its
 *     protocol version), is mqtt-packet's as before.
 * Writes are corked until the next tick, as mqtt-packet does it (write-coalescing.ts writeCorked).
 */
type Packet = Parameters<typeof mqttPacket.writeToStream>[0];
type Stream = Parameters<typeof mqttPacket.writeToStream>[1];

const mqttPacketWrite = mqttPacket.writeToStream;
let installed = false;

/** Called by the broker before aedes writes its first packet; once is enough (later calls do nothing). */
export function interceptPacketWrites(): void {
  if (installed) return;
  installed = true;
  mqttPacket.writeToStream = ((packet: Packet, stream: Stream, opts?: Parameters<typeof mqttPacket.writeToStream>[2]) => {
    if (packet.cmd === 'puback' && takePuback(packet, stream)) return true;
    if (packet.cmd === 'publish' && opts === undefined) {
      const chunks = publishBytes(packet as PublishFields);
      if (chunks) return writeCorked(stream as Writable, chunks);
    }
    return mqttPacketWrite(packet, stream, opts);
  }) as typeof mqttPacket.writeToStream;
}
