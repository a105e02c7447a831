import mqttPacket, { type Packet } from 'mqtt-packet';
import { varint } from './corpus.js';
import { RawConnection, type Target } from './raw.js';

/**
 * A seeded mutational MQTT fuzzer: valid packets from mqtt-packet's generate(), then byte mutations
 * (bit flips, interesting bytes, truncation, remaining-length corruption, splicing, repetition,
 * insertion). The same seed gives the same cases, so a failure can be replayed with FUZZ_SEED.
 */

/** Small, fast, seedable PRNG (mulberry32). */
export class Rng {
  private state: number;
  constructor(seed: number) { this.state = seed >>> 0; }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(items: readonly T[]): T { return items[this.int(items.length)] as T; }
  bytes(n: number): Buffer { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = this.int(256); return b; }
}

export interface FuzzIdentity { deviceId: string; password: string }

export interface FuzzCase {
  index: number;
  /** Sent right after the TLS handshake; when `login` is set, only after a valid CONNECT was accepted. */
  bytes: Buffer;
  login: 'none' | 'device' | 'app';
  /** Which mutations were applied (for the report and for replaying one case). */
  mutations: string[];
}

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x3f, 0xc0];
const HUGE_LENGTHS = [0, 1, 2, 127, 128, 16383, 16384, 2_097_151, 2_097_152, 268_435_455, 268_435_456, 0xffffff7f];

function topicFor(rng: Rng, id: string): string {
  return rng.pick([
    `devices/${id}/telemetry`, `devices/${id}/events`, `devices/${id}/commands`, `devices/${id}/config`, `devices/+/telemetry`,
    '#', '$SYS/#', 'devices/#', '+/+/+', `devices/${id}/telemetry/x`, 'a/b', '', '\u0000', 'd\uffffe', '__proto__', 'constructor',
    `devices/${id}/${'x'.repeat(rng.int(300))}`,
  ]);
}

/** One valid packet of a random kind (a client's packets, plus a few a client should never send). */
export function randomPacket(rng: Rng, id: FuzzIdentity): Buffer {
  const messageId = rng.chance(0.1) ? 0 : 1 + rng.int(65535);
  const topic = topicFor(rng, id.deviceId);
  const kind = rng.int(12);
  let packet: Packet;
  switch (kind) {
    case 0:
      packet = {
        cmd: 'connect', protocolId: rng.chance(0.8) ? 'MQTT' : 'MQIsdp', protocolVersion: rng.chance(0.8) ? 4 : 3, clean: rng.chance(0.7),
        keepalive: rng.pick([0, 1, 60, 1200, 65535]), clientId: rng.pick([id.deviceId, '', 'x'.repeat(rng.int(100)), 'app-1', '+', '#']),
        ...(rng.chance(0.7) ? { username: rng.pick([id.deviceId, 'app:fuzz', '', 'nobody']) } : {}),
        ...(rng.chance(0.6) ? { password: Buffer.from(rng.chance(0.5) ? id.password : 'wrong') } : {}),
        ...(rng.chance(0.3) ? { will: { topic, payload: rng.bytes(rng.int(50)), qos: rng.int(3) as 0 | 1 | 2, retain: rng.chance(0.3) } } : {}),
      } as Packet;
      break;
    case 1: case 2: case 3: {
      const qos = rng.int(3) as 0 | 1 | 2;
      packet = { cmd: 'publish', topic, payload: rng.bytes(rng.chance(0.05) ? rng.int(70_000) : rng.int(200)), qos, retain: rng.chance(0.2), dup: qos > 0 && rng.chance(0.2), ...(qos > 0 ? { messageId } : {}) } as Packet;
      break;
    }
    case 4:
      packet = { cmd: 'subscribe', messageId, subscriptions: Array.from({ length: 1 + rng.int(4) }, () => ({ topic: topicFor(rng, id.deviceId), qos: rng.int(3) as 0 | 1 | 2 })) } as Packet;
      break;
    case 5:
      packet = { cmd: 'unsubscribe', messageId, unsubscriptions: Array.from({ length: 1 + rng.int(3) }, () => topicFor(rng, id.deviceId)) } as Packet;
      break;
    case 6: packet = { cmd: 'puback', messageId } as Packet; break;
    case 7: packet = { cmd: 'pubrec', messageId } as Packet; break;
    case 8: packet = { cmd: 'pubrel', messageId } as Packet; break;
    case 9: packet = { cmd: 'pubcomp', messageId } as Packet; break;
    case 10: packet = { cmd: rng.chance(0.8) ? 'pingreq' : 'disconnect' } as Packet; break;
    default: packet = { cmd: rng.pick(['connack', 'suback', 'unsuback', 'pingresp'] as const), returnCode: 0, sessionPresent: false, messageId: 1, granted: [0] } as Packet;
  }
  try {
    return mqttPacket.generate(packet);
  } catch {
    // Some random field combinations are refused by generate() itself: a PINGREQ then.
    return Buffer.from([0xc0, 0x00]);
  }
}

/** Applies 1–4 mutations; returns the bytes and what was done. */
export function mutate(rng: Rng, input: Buffer, donor: Buffer): { bytes: Buffer; mutations: string[] } {
  let b = Buffer.from(input);
  const mutations: string[] = [];
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const op = rng.int(8);
    if (b.length === 0) b = Buffer.from([rng.int(256)]);
    switch (op) {
      case 0: { // bit flips
        const n = 1 + rng.int(8);
        for (let k = 0; k < n; k++) { const at = rng.int(b.length); b[at] = (b[at] as number) ^ (1 << rng.int(8)); }
        mutations.push(`flip${n}`);
        break;
      }
      case 1: { // interesting byte
        const at = rng.int(b.length);
        b[at] = rng.pick(INTERESTING);
        mutations.push(`set@${at}`);
        break;
      }
      case 2: { // truncation
        const at = rng.int(b.length);
        b = b.subarray(0, at);
        mutations.push(`truncate@${at}`);
        break;
      }
      case 3: { // remaining-length corruption: replace the varint after the first byte
        let p = 1;
        while (p < b.length && ((b[p] as number) & 0x80) !== 0 && p < 5) p += 1;
        const n = rng.chance(0.5) ? rng.pick(HUGE_LENGTHS) : rng.int(b.length + 10);
        b = Buffer.concat([b.subarray(0, 1), varint(n), b.subarray(Math.min(p + 1, b.length))]);
        mutations.push(`length=${n}`);
        break;
      }
      case 4: { // splice with another packet
        b = Buffer.concat([b.subarray(0, rng.int(b.length + 1)), donor.subarray(rng.int(donor.length + 1))]);
        mutations.push('splice');
        break;
      }
      case 5: { // repeat a slice
        const from = rng.int(b.length);
        const to = Math.min(b.length, from + 1 + rng.int(64));
        const times = 1 + rng.int(20);
        b = Buffer.concat([b.subarray(0, to), ...Array.from({ length: times }, () => b.subarray(from, to)), b.subarray(to)]);
        mutations.push(`repeat${times}`);
        break;
      }
      case 6: { // insert random bytes
        const at = rng.int(b.length + 1);
        b = Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(16)), b.subarray(at)]);
        mutations.push(`insert@${at}`);
        break;
      }
      default: { // change the packet type/flags byte
        b[0] = rng.int(256);
        mutations.push(`type=${(b[0] as number).toString(16)}`);
      }
    }
  }
  return { bytes: b, mutations };
}

/**
 * Case `index` of the run seeded `seed`: a third before any CONNECT (a mutated CONNECT or anything
 * else), the rest after a valid CONNECT of a device (a quarter of those; a password check each) or an
 * application (API key). One in ten streams is left unmutated so that valid paths run too.
 */
export function fuzzCase(seed: number, index: number, id: FuzzIdentity): FuzzCase {
  const rng = new Rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const login = rng.chance(1 / 3) ? 'none' : rng.chance(0.25) ? 'device' : 'app';
  const packets: Buffer[] = [];
  const count = 1 + rng.int(4);
  for (let i = 0; i < count; i++) packets.push(randomPacket(rng, id));
  if (login === 'none' && rng.chance(0.6)) packets[0] = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: id.deviceId, username: id.deviceId, password: Buffer.from('wrong') });
  const stream = Buffer.concat(packets);
  if (rng.chance(0.1)) return { index, bytes: stream, login, mutations: ['none'] };
  const { bytes, mutations } = mutate(rng, stream, randomPacket(rng, id));
  return { index, bytes, login, mutations };
}

export type FuzzOutcome = 'closed' | 'answered' | 'pending' | 'login refused';

/** How long a case waits for the broker to close or answer the PINGREQ that follows the fuzz bytes. */
const SETTLE_MS = 300;

/**
 * Runs one case on a fresh TLS connection: the `login` CONNECT first when given (and its CONNACK must
 * accept), then the fuzz bytes in one to three writes (so packets also straddle reads), then a
 * PINGREQ; the outcome is whether the broker closed the connection, answered the PINGREQ, or neither.
 */
export async function runFuzzCase(c: FuzzCase, target: Target, login: Buffer | undefined, seed: number, localAddress?: string): Promise<FuzzOutcome> {
  const conn = await RawConnection.open(target, {}, localAddress);
  try {
    if (login) {
      conn.send(login);
      const { bytes } = await conn.read(4, 5_000);
      if (!bytes.equals(Buffer.from([0x20, 0x02, 0x00, 0x00]))) return 'login refused';
    }
    const rng = new Rng(seed ^ c.index);
    let at = 0;
    for (let w = 0, writes = 1 + rng.int(3); w < writes; w++) {
      const to = w === writes - 1 ? c.bytes.length : at + rng.int(c.bytes.length - at + 1);
      conn.send(c.bytes.subarray(at, to));
      at = to;
    }
    conn.send(Buffer.from([0xc0, 0x00]));
    const settled = await conn.settle(SETTLE_MS, (pending) => pending.length >= 2 && pending[pending.length - 2] === 0xd0 && pending[pending.length - 1] === 0x00);
    return conn.isClosed ? 'closed' : settled ? 'answered' : 'pending';
  } finally {
    conn.destroy();
  }
}
