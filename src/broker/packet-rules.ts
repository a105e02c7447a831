/**
 * MQTT 3.1.1 structure rules for packets a client sends that the parser (mqtt-packet) does not
 * enforce, judged from the fixed header and as few body bytes as needed. Each breach is a malformed
 * packet after which the server must close the connection (MQTT 3.1.1 §4.8); aedes would otherwise
 * answer it (a PUBACK without packet id, a SUBACK for an ill-formed filter) or keep the connection.
 * The packet guard (src/broker/packet-size.ts) feeds these while it follows packet boundaries.
 *
 * A verdict is `null` (fine, skip the rest of the body), `{problem}` (close the connection), or a
 * request for more: skip `skip` body bytes, then read `read` bytes and hand them to `then`, or read
 * a two-byte number and hand it to `u16` with the packet's remaining length. The number form is what
 * every QoS 1 PUBLISH and acknowledgement takes: the guard reads it into a number, with no buffer view
 * or array for it, and the verdicts of the acknowledgements are made once, not per packet.
 */
export type Verdict = null | { problem: string }
  | { skip: number; read: number; then: (bytes: Buffer) => Verdict }
  | { skip: number; u16: (value: number, remaining: number) => Verdict };

const problem = (text: string): Verdict => ({ problem: text });
const packetIdCheck = (what: string) => (id: number): Verdict => (id === 0 ? problem(`${what} with packet id 0 [MQTT-2.3.1-1]`) : null);

/** Packet types (high nibble of the first byte). */
const T = { CONNECT: 1, CONNACK: 2, PUBLISH: 3, PUBACK: 4, PUBREC: 5, PUBREL: 6, PUBCOMP: 7, SUBSCRIBE: 8, SUBACK: 9, UNSUBSCRIBE: 10, UNSUBACK: 11, PINGREQ: 12, PINGRESP: 13, DISCONNECT: 14 } as const;
const ACK_NAMES: Record<number, string> = { 4: 'PUBACK', 5: 'PUBREC', 6: 'PUBREL', 7: 'PUBCOMP' };
/** Per acknowledgement type: read its packet id, which may not be 0. */
const ACK_ID: Record<number, Verdict> = Object.fromEntries(Object.entries(ACK_NAMES).map(([type, name]) => [type, { skip: 0, u16: packetIdCheck(name) }]));
const PUBLISH_ID = packetIdCheck('PUBLISH');
/** A QoS 1/2 PUBLISH: its topic length, then (past the topic) its packet id. */
const PUBLISH_TOPIC_LENGTH: Verdict = {
  skip: 0,
  u16: (topicLength, remaining) => (2 + topicLength + 2 > remaining ? problem('QoS 1/2 PUBLISH without a packet id') : { skip: topicLength, u16: PUBLISH_ID }),
};

/** The first verdict on a packet once its fixed header (type byte and remaining length) is known. */
export function judgeHeader(first: number, remaining: number): Verdict {
  const type = first >> 4;
  switch (type) {
    case T.CONNECT:
      return null;
    case T.PUBLISH: {
      const qos = (first >> 1) & 3;
      if (qos === 0) return (first & 0x08) !== 0 ? problem('DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]') : null;
      if (remaining < 4) return problem('QoS 1/2 PUBLISH without a packet id');
      return PUBLISH_TOPIC_LENGTH;
    }
    case T.PUBACK: case T.PUBREC: case T.PUBREL: case T.PUBCOMP: {
      if (remaining !== 2) return problem(`${ACK_NAMES[type] as string} with remaining length ${remaining} (must be 2)`);
      return ACK_ID[type] as Verdict;
    }
    case T.SUBSCRIBE:
    case T.UNSUBSCRIBE: {
      const name = type === T.SUBSCRIBE ? 'SUBSCRIBE' : 'UNSUBSCRIBE';
      // Packet id plus at least one filter of at least one character ([MQTT-3.8.3-3], [MQTT-3.10.3-2]).
      if (remaining < 2 + 3) return problem(`${name} without a topic filter`);
      return { skip: 0, read: remaining, then: (body) => filterList(body, type === T.SUBSCRIBE) };
    }
    case T.PINGREQ:
    case T.DISCONNECT:
      return remaining === 0 ? null : problem(`${type === T.PINGREQ ? 'PINGREQ' : 'DISCONNECT'} with remaining length ${remaining} (must be 0)`);
    case T.CONNACK: case T.SUBACK: case T.UNSUBACK: case T.PINGRESP:
      return problem(`a client may not send packet type ${type}`);
    default:
      return problem(`reserved packet type ${type}`);
  }
}

/** The body of a SUBSCRIBE (filters with a requested QoS each) or an UNSUBSCRIBE (filters only). */
function filterList(body: Buffer, withQos: boolean): Verdict {
  const name = withQos ? 'SUBSCRIBE' : 'UNSUBSCRIBE';
  if (body.readUInt16BE(0) === 0) return problem(`${name} with packet id 0 [MQTT-2.3.1-1]`);
  let p = 2;
  while (p < body.length) {
    if (p + 2 > body.length) return problem(`${name} ends inside a filter length`);
    const length = body.readUInt16BE(p);
    p += 2;
    if (p + length + (withQos ? 1 : 0) > body.length) return problem(`${name} ends inside a filter`);
    const why = filterProblem(body.subarray(p, p + length));
    if (why) return problem(`${name} filter ${why}`);
    p += length;
    if (withQos) {
      const qos = body[p] as number;
      if (qos > 2) return problem(`SUBSCRIBE requested QoS byte ${qos} [MQTT-3.8.3-4]`);
      p += 1;
    }
  }
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Why a topic filter is ill-formed, or undefined: empty, not well-formed UTF-8 (surrogates included),
 * U+0000 [MQTT-1.5.3-1/2], control characters or Unicode noncharacters (which the spec says a client
 * should not send; mosquitto refuses them too), or a wildcard that does not take a whole level
 * [MQTT-4.7.1-2/3].
 */
export function filterProblem(bytes: Buffer): string | undefined {
  if (bytes.length === 0) return 'is empty [MQTT-4.7.3-1]';
  let text: string;
  try { text = utf8.decode(bytes); } catch { return 'is not well-formed UTF-8 [MQTT-1.5.3-1]'; }
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cp === 0) return 'contains U+0000 [MQTT-1.5.3-2]';
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return `contains the control character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return `contains the noncharacter U+${cp.toString(16).toUpperCase()}`;
  }
  const levels = text.split('/');
  for (const [i, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return `"${text}" uses # other than as the whole last level [MQTT-4.7.1-2]`;
    if (level.includes('+') && level !== '+') return `"${text}" uses + other than as a whole level [MQTT-4.7.1-3]`;
  }
  return undefined;
}
