import mqttPacket from 'mqtt-packet';
import type { RegisteredDevice } from '../../helpers/devices.js';
import { connectFlags, encode, tokenize, type CorpusSequence, type Token } from './corpus.js';
import { RawConnection, type Target } from './raw.js';

/** How long the replayer waits for an expected packet, a close, or a PINGRESP. */
export const STEP_TIMEOUT_MS = 2_000;

/**
 * What the replayer adapts, because the corpus was written for an anonymous broker that allows every
 * topic while ways-edge requires device credentials and a topic ACL:
 *
 * - the default CONNECT (`connect: true`) carries a registered device's credentials, with its device
 *   id as client id, keepalive 60, clean session, protocol 3 (`MQIsdp`) or 4 (`MQTT`) as the test says;
 * - a corpus CONNECT with both the username and the password flag gets the device's id as client id and
 *   username and its password (a plain will topic becomes `devices/{id}/status`); one without
 *   credentials is sent as written (and refused: the gateway has no anonymous access);
 * - a plain topic name (letters, digits, `_`, `-`, `/`) in a PUBLISH the client sends becomes
 *   `devices/{id}/telemetry`; in a SUBSCRIBE or UNSUBSCRIBE, in a PUBLISH the broker sends, and in a
 *   helper's publish, each distinct name becomes one of the device's downstream topics
 *   (`/commands`, `/config`, `/firmware`, in order of first use). Topics with `$`, `+`, `#`, control
 *   or non-ASCII characters are what those tests are about and are sent as written;
 * - the remaining length of an adapted packet changes by exactly the bytes the adaptation added, so a
 *   packet that was malformed on purpose stays malformed the same way;
 * - a helper's publish (`external_publish`) is made by an application client (API key with the `mqtt`
 *   scope), the only principal that may publish to a device's downstream topics;
 * - packet ids the broker chooses for its own PUBLISHes (aedes starts at a random id, mosquitto at 1)
 *   are learnt from the first such PUBLISH and substituted in the later steps.
 */
export interface ReplayContext {
  target: Target;
  device: RegisteredDevice;
  externalPublish(topic: string, payload: Buffer, qos: 0 | 1 | 2): Promise<void>;
}

export interface ReplayResult {
  id: string;
  /** Every expected packet arrived byte for byte and the disconnect expectation held. */
  matched: boolean;
  /** The first difference, e.g. `step 2: expected 90 03 04 d2 01, got 90 03 04 d2 80`. */
  difference?: string;
  /** What the broker did at the end: closed the connection (and when), or kept it open. */
  closed: boolean;
  /** ms from the last byte the client sent to the close (undefined when it stayed open). */
  closeMs?: number;
  /** The bytes the broker answered that were not expected, in hex (for the report). */
  got?: string;
}

const PLAIN_TOPIC = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;
const DOWNSTREAM = ['commands', 'config', 'firmware'] as const;

const hex = (b: Buffer): string => b.toString('hex').replace(/(..)(?!$)/g, '$1 ');

/** A valid CONNECT of `device` (MQTT 3.1 or 3.1.1). */
export function deviceConnect(device: RegisteredDevice, ver: 3 | 4, keepalive = 60): Buffer {
  const c = device.mqtt_credentials;
  return mqttPacket.generate({
    cmd: 'connect', protocolId: ver === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: ver, clean: true, keepalive,
    clientId: c.client_id, username: c.username, password: Buffer.from(c.password),
  });
}

/** Per sequence: the topic names met so far and the broker's packet ids learnt. */
class Adapter {
  private readonly downstream = new Map<string, string>();
  readonly mids = new Map<number, number>();

  constructor(private readonly device: RegisteredDevice) {}

  downstreamTopic(name: string): string {
    let topic = this.downstream.get(name);
    if (topic === undefined) {
      topic = `devices/${this.device.device_id}/${DOWNSTREAM[this.downstream.size % DOWNSTREAM.length]}`;
      this.downstream.set(name, topic);
    }
    return topic;
  }

  /** The step's bytes, adapted for a packet the client sends (`send`) or expects (`recv`). */
  packet(description: string, direction: 'send' | 'recv'): Buffer {
    const tokens = tokenize(description).map((t) => (t.kind === 'u16' && t.tag === 'm' && this.mids.has(t.n) ? { ...t, n: this.mids.get(t.n) as number } : t));
    const first = tokens[0];
    if (first?.kind !== 'hex' || first.bytes.length !== 1) return encode(tokens);
    const type = (first.bytes[0] as number) >> 4;
    const id = this.device.device_id;
    if (type === 1 && direction === 'send') return this.connect(tokens);
    if (type === 3) {
      return remap(tokens, (text, k) => (k === 0 && PLAIN_TOPIC.test(text) ? (direction === 'send' ? `devices/${id}/telemetry` : this.downstreamTopic(text)) : undefined));
    }
    if ((type === 8 || type === 10) && direction === 'send') return remap(tokens, (text) => (PLAIN_TOPIC.test(text) ? this.downstreamTopic(text) : undefined));
    return encode(tokens);
  }

  /** A CONNECT with username and password flags gets the device's identity; others stay as written. */
  private connect(tokens: Token[]): Buffer {
    const flags = connectFlags(encode(tokens));
    if (flags === undefined || (flags & 0xc0) !== 0xc0) return encode(tokens);
    const will = (flags & 0x04) !== 0;
    // Length-prefixed strings in order: protocol name, client id, [will topic, will message], username, password.
    const roles = ['protocol', 'client', ...(will ? ['willTopic', 'willMessage'] : []), 'username', 'password'];
    const c = this.device.mqtt_credentials;
    return remap(tokens, (text, k) => {
      switch (roles[k]) {
        case 'client': case 'username': return c.username;
        case 'password': return c.password;
        case 'willTopic': return PLAIN_TOPIC.test(text) ? `devices/${this.device.device_id}/status` : undefined;
        default: return undefined;
      }
    });
  }

  /** A broker PUBLISH that differs from the expected one only in its packet id: learn the id. */
  learnMid(expected: Buffer, got: Buffer): boolean {
    if (expected.length !== got.length || expected.length < 4 || ((expected[0] as number) >> 4) !== 3 || (((expected[0] as number) >> 1) & 3) === 0) return false;
    let p = 1;
    while (((expected[p] as number) & 0x80) !== 0 && p < 5) p += 1;
    p += 1;
    const at = p + 2 + expected.readUInt16BE(p);
    if (at + 2 > expected.length) return false;
    for (let i = 0; i < expected.length; i++) if ((i < at || i >= at + 2) && expected[i] !== got[i]) return false;
    this.mids.set(expected.readUInt16BE(at), got.readUInt16BE(at));
    return true;
  }
}

/**
 * Replaces length-prefixed strings (`s<N>` followed by `'text'` of N bytes) where `decide` returns a
 * replacement (k counts such strings in the packet), and moves the remaining length by the same number
 * of bytes, keeping any inconsistency the test put there.
 */
function remap(tokens: Token[], decide: (text: string, k: number) => string | undefined): Buffer {
  const out = [...tokens];
  let k = 0;
  let delta = 0;
  for (let i = 0; i + 1 < out.length; i++) {
    const len = out[i] as Token;
    const text = out[i + 1] as Token;
    if (len.kind !== 'u16' || len.tag !== 's' || text.kind !== 'text' || Buffer.byteLength(text.text) !== len.n) continue;
    const replacement = decide(text.text, k);
    k += 1;
    if (replacement === undefined) continue;
    const n = Buffer.byteLength(replacement);
    delta += n - len.n;
    out[i] = { ...len, n };
    out[i + 1] = { kind: 'text', text: replacement };
  }
  const remaining = out[1];
  if (delta !== 0 && remaining?.kind === 'varint') out[1] = { ...remaining, n: remaining.n + delta };
  return encode(out);
}

/** Replays one sequence as the corpus means it (adapted, see above) and says whether the broker behaved as expected. */
export async function replaySequence(seq: CorpusSequence, ctx: ReplayContext): Promise<ReplayResult> {
  const adapter = new Adapter(ctx.device);
  const conn = await RawConnection.open(ctx.target);
  let lastSend = performance.now();
  const result = (matched: boolean, difference?: string, got?: Buffer): ReplayResult => ({
    id: seq.id, matched, closed: conn.isClosed,
    ...(conn.closedAt !== undefined ? { closeMs: Math.max(0, Math.round(conn.closedAt - lastSend)) } : {}),
    ...(difference ? { difference } : {}), ...(got && got.length > 0 ? { got: hex(got) } : {}),
  });
  const send = (bytes: Buffer): void => { conn.send(bytes); lastSend = performance.now(); };
  const expect = async (expected: Buffer, step: string): Promise<string | undefined> => {
    const { bytes, ended } = await conn.read(expected.length, STEP_TIMEOUT_MS);
    if (bytes.equals(expected) || adapter.learnMid(expected, bytes)) return undefined;
    const more = conn.pending();
    const got = Buffer.concat([bytes, more]);
    return `${step}: expected ${hex(expected)}, got ${got.length > 0 ? hex(got) : 'nothing'}${ended === 'closed' ? ' and the connection closed' : ended === 'timeout' ? ` within ${STEP_TIMEOUT_MS} ms` : ''}`;
  };
  try {
    if (seq.connect) {
      send(deviceConnect(ctx.device, seq.ver));
      const diff = await expect(Buffer.from([0x20, 0x02, 0x00, 0x00]), 'default CONNECT');
      if (diff) return await finish(conn, result, `the adapted device CONNECT was not accepted: ${diff}`);
    }
    for (const [i, step] of seq.msgs.entries()) {
      const label = `step ${i + 1} (${step.type}${step.comment ? `: ${step.comment}` : ''})`;
      if (step.type === 'send') send(adapter.packet(step.payload ?? '', 'send'));
      else if (step.type === 'recv') {
        const diff = await expect(adapter.packet(step.payload ?? '', 'recv'), label);
        if (diff) return await finish(conn, result, diff);
      } else if (step.type === 'external_publish' || step.type === 'publish') {
        const qos = (step.qos ?? 0) as 0 | 1 | 2;
        await ctx.externalPublish(adapter.downstreamTopic(step.topic ?? ''), Buffer.from(step.payload ?? ''), qos);
      }
    }
    if (seq.expectDisconnect) {
      const closed = await conn.closedWithin(STEP_TIMEOUT_MS);
      const extra = conn.pending();
      if (!closed) return result(false, `expected a disconnect; the connection stayed open ${STEP_TIMEOUT_MS} ms${extra.length > 0 ? ` after sending ${hex(extra)}` : ''}`, extra);
      if (extra.length > 0) return result(false, `expected a disconnect; got ${hex(extra)} before it`, extra);
      return result(true);
    }
    // Still connected: a PINGREQ must get its PINGRESP (mosquitto's connected check).
    if (conn.isClosed) return result(false, `expected the connection to stay open; it was closed${conn.pending().length > 0 ? ` after ${hex(conn.pending())}` : ''}`, conn.pending());
    send(Buffer.from([0xc0, 0x00]));
    const diff = await expect(Buffer.from([0xd0, 0x00]), 'connected check (PINGREQ)');
    return result(diff === undefined, diff);
  } finally {
    conn.destroy();
  }
}

/** After a difference: note whether (and when) the broker closes the connection. */
async function finish(conn: RawConnection, result: (m: boolean, d?: string) => ReplayResult, difference: string): Promise<ReplayResult> {
  await conn.closedWithin(STEP_TIMEOUT_MS);
  return result(false, difference);
}

export interface PreConnectResult {
  id: string;
  closed: boolean;
  closeMs?: number;
  /** What the broker sent, in hex (at most a refusing CONNACK is acceptable). */
  got: string;
  /** A CONNACK that accepted the connection: must never happen without credentials. */
  accepted: boolean;
}

/**
 * The same sequence's bytes as the very first thing on a fresh connection, no CONNECT before them and
 * nothing adapted: the unauthenticated attack surface. Every send step goes out back to back.
 */
export async function replayPreConnect(seq: CorpusSequence, target: Target): Promise<PreConnectResult> {
  const conn = await RawConnection.open(target);
  let lastSend = performance.now();
  try {
    for (const step of seq.msgs) {
      if (step.type !== 'send') continue;
      conn.send(encode(tokenize(step.payload ?? '')));
      lastSend = performance.now();
    }
    const closed = await conn.closedWithin(STEP_TIMEOUT_MS);
    const got = conn.pending();
    return {
      id: seq.id, closed, got: hex(got), accepted: got.length >= 4 && got[0] === 0x20 && got[3] === 0x00,
      ...(conn.closedAt !== undefined ? { closeMs: Math.max(0, Math.round(conn.closedAt - lastSend)) } : {}),
    };
  } finally {
    conn.destroy();
  }
}
