import { bytesOf, connectFlags, type CorpusSequence } from './corpus.js';
import type { ReplayResult } from './replay.js';

/**
 * Why a corpus sequence behaves differently at ways-edge than at the anonymous, allow-everything
 * mosquitto the corpus was written for. Every difference must have one of these reasons; a difference
 * without one fails the replay test (it is either a defect or a new reason to write down here).
 */
export const REASONS = {
  auth: 'auth — no anonymous access: a CONNECT without device credentials (or with an unknown client id/username) is refused with CONNACK 4 "bad username or password" before the connection closes, where mosquitto accepts it or closes without a CONNACK',
  protocolLevel: 'CONNACK codes — the MQTT parser (mqtt-packet) refuses a CONNECT with a protocol level other than 3 or 4, or with the reserved flag bit set (which MQTT 3.1 ignored), and the connection closes without a CONNACK; mosquitto answers 0x01, an MQTT 5 CONNACK 0x84, or accepts the 3.1 one',
  aclSubscribe: 'ACL — `$SYS`, `$share`, wildcard and non-device filters are refused with SUBACK 0x80 (the connection stays open), where mosquitto grants them',
  aclPublish: 'ACL — a PUBLISH outside devices/{id}/telemetry, /events or /status (here a `$` or non-ASCII topic) is refused and the connection closed (MQTT 3.1.1 has no negative PUBACK), where mosquitto accepts it',
  noSelfDelivery: 'ACL — a device publishes only upstream topics and subscribes only downstream ones, so it never receives its own messages (the corpus\' self-publish tests)',
  wrongAck: 'tolerated — an acknowledgement of the wrong kind for a packet id the broker sent (PUBREC/PUBCOMP for QoS 1, PUBACK/PUBCOMP for QoS 2) is ignored by aedes and the connection stays open; mosquitto closes it. Harmless: the message is just treated as acknowledged, nothing is stored or delivered twice',
  qos2Retransmit: 'tolerated — a QoS 2 PUBLISH repeated with a packet id still awaiting PUBREL is treated by aedes as a retransmission (PUBREC again, delivered once) and the connection stays open; mosquitto closes it on the third copy',
} as const;

export type Reason = keyof typeof REASONS;
/** Reasons where the gateway keeps a connection open that the corpus expects closed (not a robustness failure). */
export const TOLERATED: ReadonlySet<Reason> = new Set<Reason>(['wrongAck', 'qos2Retransmit']);

function firstSend(seq: CorpusSequence): Buffer | undefined {
  const step = seq.msgs.find((m) => m.type === 'send');
  return step ? bytesOf(step.payload ?? '') : undefined;
}

const PLAIN_TOPIC = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

/** The topic of a PUBLISH (as latin1, enough to tell a plain name from anything else). */
function topicOf(bytes: Buffer): string | undefined {
  let p = 1;
  while (p < bytes.length && ((bytes[p] as number) & 0x80) !== 0) p += 1;
  p += 1;
  if (p + 2 > bytes.length) return undefined;
  return bytes.subarray(p + 2, p + 2 + bytes.readUInt16BE(p)).toString('latin1');
}

const refusedConnack = (s: string | undefined): boolean => /20 02 00 0[45]/.test(s ?? '');

/** The reason a sequence differs, or undefined when no known reason explains it. */
export function reasonFor(seq: CorpusSequence, r: ReplayResult): Reason | undefined {
  const diff = r.difference ?? '';
  const first = firstSend(seq);
  const isConnectTest = !seq.connect && first !== undefined && first[0] !== undefined && (first[0] >> 4) === 1;
  if (isConnectTest) {
    const flags = connectFlags(first);
    const anonymous = flags === undefined || (flags & 0xc0) !== 0xc0;
    if (refusedConnack(diff) && anonymous) return 'auth';
    // A CONNECT with credentials the replayer could not adapt (a password given as bytes).
    if (refusedConnack(diff) && /got 20 02 00 0[45]/.test(diff)) return 'auth';
    if (/CONNACK.*got nothing and the connection closed/.test(diff)) return 'protocolLevel';
    return undefined;
  }
  // SUBACK 0x80 where a grant was expected.
  const suback = /expected (90 [0-9a-f ]+), got (90 [0-9a-f ]+)/.exec(diff);
  if (suback && (suback[2] ?? '').split(' ').slice(4).includes('80')) return 'aclSubscribe';
  const sends = seq.msgs.filter((m) => m.type === 'send').map((m) => bytesOf(m.payload ?? ''));
  const publishesOutside = sends.some((b) => (b[0] as number) >> 4 === 3 && !PLAIN_TOPIC.test(topicOf(b) ?? ''));
  if (publishesOutside && /closed/.test(diff)) return 'aclPublish';
  // Self delivery: the client subscribes to a name and publishes to the same name itself.
  const hasExternal = seq.msgs.some((m) => m.type === 'external_publish');
  if (!hasExternal && /step \d+ \(recv[^)]*\): expected 3[0-9a-f]/.test(diff) && sends.some((b) => (b[0] as number) >> 4 === 8)) return 'noSelfDelivery';
  if (hasExternal && /stayed open/.test(diff) && seq.group.includes('FLOW')) return 'wrongAck';
  if (/QoS 2 Dup flow/.test(seq.name) && /stayed open/.test(diff)) return 'qos2Retransmit';
  return undefined;
}
