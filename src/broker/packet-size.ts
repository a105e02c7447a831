import type { Duplex } from 'node:stream';
import { judgeHeader, type Verdict } from './packet-rules.js';

/**
 * Follows the MQTT packet boundaries of one connection's inbound bytes by reading the fixed headers
 * (type byte + "remaining length" varint) and skipping the bodies, so that a packet announcing more
 * than the limit is refused as soon as its header arrives. aedes' parser (mqtt-packet) has no size
 * limit and would otherwise buffer the whole packet — 256 MB is a legal MQTT length — before aedes
 * sees it. The cost is a few comparisons per packet and no copying.
 *
 * On the way it applies the structure rules of src/broker/packet-rules.ts that the parser leaves out
 * (fixed lengths, packet id 0, QoS 0 with DUP, ill-formed topic filters): for those it looks at the
 * few body bytes a rule needs (a QoS 1/2 PUBLISH: the topic length and the packet id, read into
 * numbers; a SUBSCRIBE or UNSUBSCRIBE: its body, the only packets copied).
 */
export class PacketSizeGuard {
  /** Bytes of the current packet's body still to skip. */
  private skip = 0;
  /** Body bytes of the current packet not consumed yet. */
  private bodyLeft = 0;
  /** Inside a remaining-length varint: its value so far, multiplier and bytes read. */
  private inLength = false;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private first = 0;
  /** Body bytes a rule asked for: how many are still missing, what has come, and who judges them. */
  private want = 0;
  /** Made only when a rule asks for body bytes: most connections never send a packet that needs it. */
  private wanted: Buffer[] | undefined;
  private judge: ((bytes: Buffer) => Verdict) | undefined;
  /** A two-byte number a rule asked for: bytes still to read, its value so far, who judges it. */
  private numberLeft = 0;
  private numberValue = 0;
  private judgeNumber: ((value: number, remaining: number) => Verdict) | undefined;
  /** The announced length of the packet that broke the limit (for the log). */
  announced = 0;
  /** Why the packet was refused when it broke a structure rule (undefined for the size limit). */
  problem: string | undefined;

  constructor(private readonly maxRemainingLength: number) {}

  /** Feeds the next bytes; false when a packet breaks the limit, is malformed, or breaks a structure rule. */
  inspect(chunk: Buffer): boolean {
    let i = 0;
    const end = chunk.length;
    while (i < end) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - i);
        this.skip -= n;
        this.bodyLeft -= n;
        i += n;
        if (this.skip === 0 && (this.want > 0 || this.numberLeft > 0) && this.bodyLeft === 0) return this.refuse('packet ends early');
        continue;
      }
      if (this.numberLeft > 0) {
        this.numberValue = this.numberValue * 256 + (chunk[i] as number);
        this.numberLeft -= 1;
        this.bodyLeft -= 1;
        i += 1;
        if (this.numberLeft === 0) {
          const judge = this.judgeNumber as (value: number, remaining: number) => Verdict;
          this.judgeNumber = undefined;
          if (!this.follow(judge(this.numberValue, this.length))) return false;
        }
        continue;
      }
      if (this.want > 0) {
        const n = Math.min(this.want, end - i);
        (this.wanted ??= []).push(chunk.subarray(i, i + n));
        this.want -= n;
        this.bodyLeft -= n;
        i += n;
        if (this.want === 0) {
          const judge = this.judge as (bytes: Buffer) => Verdict;
          const parts = this.wanted ?? [];
          this.wanted = undefined;
          this.judge = undefined;
          if (!this.follow(judge(parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts)))) return false;
        }
        continue;
      }
      if (!this.inLength) {
        // First byte of a fixed header: packet type and flags (the parser judges the flags).
        this.inLength = true;
        this.first = chunk[i] as number;
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
        if (this.lengthBytes >= 4) { this.announced = this.length; return this.refuse('remaining length longer than four bytes'); }
        continue;
      }
      this.inLength = false;
      if (this.length > this.maxRemainingLength) { this.announced = this.length; return false; }
      this.bodyLeft = this.length;
      if (!this.follow(judgeHeader(this.first, this.length))) return false;
    }
    return true;
  }

  /** Acts on a rule's verdict: skip the rest of the body, refuse, or collect the bytes it asks for. */
  private follow(verdict: Verdict): boolean {
    if (verdict === null) { this.skip = this.bodyLeft; return true; }
    if ('problem' in verdict) return this.refuse(verdict.problem);
    if ('u16' in verdict) {
      if (verdict.skip + 2 > this.bodyLeft) return this.refuse('packet ends early');
      this.skip = verdict.skip;
      this.numberLeft = 2;
      this.numberValue = 0;
      this.judgeNumber = verdict.u16;
      return true;
    }
    if (verdict.skip + verdict.read > this.bodyLeft) return this.refuse('packet ends early');
    this.skip = verdict.skip;
    this.want = verdict.read;
    this.judge = verdict.then;
    if (this.want === 0) return this.follow(verdict.then(Buffer.alloc(0)));
    return true;
  }

  private refuse(problem: string): boolean {
    this.problem = problem;
    return false;
  }
}

/** Why a connection's packet was refused: its announced length, and the structure rule it broke (none for the size limit). */
export interface Refusal { announcedBytes: number; problem: string | undefined }

/**
 * Watches what aedes reads from a connection and refuses the connection when a packet is too large
 * or malformed (`onRefused` closes it, see broker.ts). Returns the function to call on each
 * connection, after `aedes.handle(socket)`: aedes reads with 'readable' + read(), and a 'data'
 * listener added then sees every chunk exactly when aedes reads it, before aedes parses it, without
 * switching the stream to flowing mode. `onRefused` must close aedes' client synchronously
 * (client.close()) so that nothing of that chunk is handled; destroying the socket leaves aedes'
 * parser holding at most that one chunk.
 *
 * One 'data' listener serves every connection (it finds the connection's guard by `this`): a
 * connection costs its guard and nothing more.
 */
export function packetSizeGuard(maxRemainingLength: number, onRefused: (socket: Duplex, refusal: Refusal) => void): (socket: Duplex) => void {
  const guards = new WeakMap<Duplex, PacketSizeGuard>();
  function onData(this: Duplex, chunk: Buffer): void {
    const guard = guards.get(this);
    if (!guard || guard.inspect(chunk)) return;
    this.off('data', onData);
    guards.delete(this);
    onRefused(this, { announcedBytes: guard.announced, problem: guard.problem });
    this.destroy();
  }
  return (socket) => {
    guards.set(socket, new PacketSizeGuard(maxRemainingLength));
    socket.on('data', onData);
  };
}
