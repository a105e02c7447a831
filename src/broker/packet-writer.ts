import type { Writable } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { publishBytes, type PublishFields } from './publish-bytes.js';

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
 * A write is corked until the next tick, as mqtt-packet does it: on a gateway connection that cork
 * joins the turn's single socket write (src/broker/write-coalescing.ts).
 */
type Packet = Parameters<typeof mqttPacket.writeToStream>[0];
type Stream = Parameters<typeof mqttPacket.writeToStream>[1];

/** Takes a PUBACK being written to `stream` (true: it will write it itself, or never). */
export type PubackTaker = (packet: Packet, stream: Stream) => boolean;

const mqttPacketWrite = mqttPacket.writeToStream;
let pubackTaker: PubackTaker | undefined;
let installed = false;

export function interceptPacketWrites(takePuback?: PubackTaker): void {
  if (takePuback) pubackTaker = takePuback;
  if (installed) return;
  installed = true;
  mqttPacket.writeToStream = ((packet: Packet, stream: Stream, opts?: Parameters<typeof mqttPacket.writeToStream>[2]) => {
    if (packet.cmd === 'puback' && pubackTaker?.(packet, stream)) return true;
    if (packet.cmd === 'publish' && opts === undefined) {
      const chunks = publishBytes(packet as PublishFields);
      if (chunks) return writeCorked(stream as Writable, chunks);
    }
    return mqttPacketWrite(packet, stream, opts);
  }) as typeof mqttPacket.writeToStream;
}

/** Writes `chunks` inside a cork released on the next tick; returns the last write's answer (backpressure). */
export function writeCorked(stream: Writable, chunks: readonly Buffer[]): boolean {
  stream.cork();
  let ok = true;
  for (const chunk of chunks) ok = stream.write(chunk);
  process.nextTick(uncork, stream);
  return ok;
}

function uncork(stream: Writable): void {
  stream.uncork();
}
