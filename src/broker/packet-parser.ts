import type { EventEmitter } from 'node:events';
import mqttPacket from 'mqtt-packet';
import { readVarint, type VarintRead } from './remaining-length.js';

/**
 * How aedes reads the packets of a connection. aedes makes each connection's parser with
 * mqtt-packet's `parser()`, which it looks up on the module (lib/client.js), and offers no other hook;
 * so this replaces that one factory, once, process-wide, with mqtt-packet's own Parser plus a fast
 * path for the two packets a device sends all day: PUBLISH and PUBACK.
 *
 * Why: mqtt-packet's parser appends every chunk to a BufferList (bl) and reads each field through
 * it, and calls `debug()` a dozen times per packet even when debugging is off. bl makes a Buffer
 * view and an offset array for every read, and `debug`'s rest arguments an array per call: together
 * about a third of the bytes the gateway allocated under the throughput bench, and so of its
 * garbage collection.
 *
 * The fast path reads a PUBLISH or PUBACK straight from the chunk when the parser holds nothing of
 * an earlier chunk and the whole packet is in this one, and emits the same Packet object mqtt-packet
 * would (same class, same fields in the same order, the payload a view of the chunk as bl's slice
 * gives). Anything else goes to mqtt-packet as before, from the first byte it does not take: another
 * packet type, a packet cut across chunks, an MQTT 5 connection, and every malformed case (QoS 3,
 * flags, a topic or packet id past the packet's end), so the errors are mqtt-packet's own.
 * Parsers made with options (mqtt.js' uplink client passes its connect options) are mqtt-packet's.
 */

/** What this file uses of mqtt-packet's Parser (parser.js, 9.x) beyond its typed surface. */
interface ParserInternals extends EventEmitter {
  parse(buf: Buffer): number;
  /** The CONNECT packet once one was parsed ({} before). */
  settings: { protocolVersion?: number };
  error: Error | null;
  /** Which step of a packet it is in (0 = at a packet's first byte). */
  _stateCounter: number;
  /** The bytes it holds of a packet not yet complete. */
  _list: { length: number };
}

/** mqtt-packet's Packet: its constructor sets cmd, retain, qos, dup, length, topic, payload. */
interface PacketObject {
  cmd: string | null;
  retain: boolean;
  qos: number;
  dup: boolean;
  length: number;
  topic: string | null;
  payload: Buffer | null;
  messageId?: number;
}

type ParserClass = new () => ParserInternals & { parser(opts?: object): ParserInternals };

const originalFactory = mqttPacket.parser;
// mqtt-packet exports only a factory; its classes are the constructors of what the factory makes.
const probe = originalFactory() as unknown as ParserInternals & { packet: PacketObject };
const Parser = probe.constructor as ParserClass;
const Packet = probe.packet.constructor as new () => PacketObject;

const PUBLISH = 3;
const PUBACK = 4;
/** A PUBACK's first byte: type 4, no flags (MQTT 3.1.1 requires 0). */
const PUBACK_HEADER = PUBACK << 4;
/** The remaining length of the packet emitWhole() is reading; shared, as it is used before any emit. */
const remaining: VarintRead = { value: 0, end: 0 };

export class FastPathParser extends Parser {
  /** True while parse() runs: a packet handler that asks for more (aedes does) must wait its turn. */
  private busy = false;
  /** Chunks handed in while busy (or left by a handler that threw), oldest first. */
  private readonly queued: Buffer[] = [];

  override parse(buf: Buffer): number {
    // Chunks are parsed in the order they were handed in: parsing one a packet handler hands in at
    // once would put its packets before the rest of the chunk being parsed.
    this.queued.push(buf);
    if (this.busy) return this._list.length;
    this.busy = true;
    try {
      // Taken off before it is parsed: a handler that throws loses the rest of its chunk (as with
      // mqtt-packet), and the chunks after it wait for the next call.
      for (let next = this.queued.shift(); next !== undefined; next = this.queued.shift()) this.parseChunk(next);
    } finally {
      this.busy = false;
    }
    return this._list.length;
  }

  private parseChunk(buf: Buffer): void {
    let at = 0;
    if (this._list.length === 0 && this._stateCounter === 0 && this.error === null && this.settings.protocolVersion !== 5) {
      while (at < buf.length) {
        const used = this.emitWhole(buf, at);
        if (used === 0) break;
        at += used;
      }
    }
    if (at < buf.length) super.parse(at === 0 ? buf : buf.subarray(at));
  }

  /** Emits the PUBLISH or PUBACK that starts at `at` if it is whole and plain; returns its bytes, else 0. */
  private emitWhole(buf: Buffer, at: number): number {
    const first = buf[at] as number;
    const type = first >> 4;
    if (type !== PUBLISH && type !== PUBACK) return 0;
    if (!readVarint(buf, at + 1, remaining)) return 0;
    const length = remaining.value;
    const p = remaining.end;
    const end = p + length;
    if (end > buf.length) return 0;
    let packet: PacketObject;
    if (type === PUBACK) {
      if (first !== PUBACK_HEADER || length !== 2) return 0;
      packet = new Packet();
      packet.cmd = 'puback';
      packet.length = 2;
      packet.messageId = (buf[p] as number) * 256 + (buf[p + 1] as number);
    } else {
      const qos = (first >> 1) & 3;
      if (qos === 3 || length < 2) return 0;
      const topicEnd = p + 2 + (buf[p] as number) * 256 + (buf[p + 1] as number);
      const payloadAt = qos > 0 ? topicEnd + 2 : topicEnd;
      if (payloadAt > end) return 0;
      packet = new Packet();
      packet.cmd = 'publish';
      packet.retain = (first & 1) !== 0;
      packet.qos = qos;
      packet.dup = (first & 8) !== 0;
      packet.length = length;
      packet.topic = buf.toString('utf8', p + 2, topicEnd);
      if (qos > 0) packet.messageId = (buf[topicEnd] as number) * 256 + (buf[topicEnd + 1] as number);
      packet.payload = buf.subarray(payloadAt, end);
    }
    this.emit('packet', packet);
    return end - at;
  }
}

/** A parser as mqtt-packet's factory makes one: the fast path for aedes' (no options), mqtt-packet's otherwise. */
function fastPathFactory(opts?: object): ReturnType<typeof originalFactory> {
  if (opts !== undefined) return originalFactory(opts);
  return new FastPathParser().parser() as unknown as ReturnType<typeof originalFactory>;
}

let installed = false;

/** Called by the broker before aedes accepts its first connection; once is enough (later calls do nothing). */
export function interceptPacketParsing(): void {
  if (installed) return;
  installed = true;
  mqttPacket.parser = fastPathFactory;
}
