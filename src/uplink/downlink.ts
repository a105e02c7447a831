import type { Logger } from '../log.js';
import { DEVICE_SUBSCRIBE_SUFFIXES } from '../broker/topics.js';

export type DownlinkTopic = (typeof DEVICE_SUBSCRIBE_SUFFIXES)[number];

/**
 * A cloud→device message as it arrives on `devices/{gateway id}/commands` (docs/UPLINK.md
 * "Downlink"): one UTF-8 JSON object per MQTT message.
 *
 *   {"device_id": "iot_dev_…", "topic": "commands" | "config" | "firmware",
 *    "payload": <any JSON> | "payload_base64": "<bytes>", "retain"?: boolean, "message_id"?: string}
 */
export interface DownlinkMessage {
  deviceId: string;
  topic: DownlinkTopic;
  /** The bytes the device gets: the JSON text of `payload`, or the decoded `payload_base64`. */
  payload: Buffer;
  /** The JSON value, when the message carried `payload` (a config object is also kept for GET /config). */
  value: unknown;
  retain: boolean;
  messageId: string | undefined;
}

/** What the downlink needs of the broker (src/broker/broker.ts `send`, `configs`). */
export interface DeviceDelivery {
  send(deviceId: string, suffix: DownlinkTopic, payload: Buffer, retain?: boolean): Promise<'delivered' | 'queued'>;
  readonly configs: { put(deviceId: string, config: Record<string, unknown>): Promise<unknown> };
}

const FIELDS = new Set(['device_id', 'topic', 'payload', 'payload_base64', 'retain', 'message_id']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Parses and checks a downlink message; returns the reason when it is not one. */
export function parseDownlink(raw: Buffer): DownlinkMessage | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    return { error: 'not JSON' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { error: 'not a JSON object' };
  const m = doc as Record<string, unknown>;
  const unknown = Object.keys(m).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) return { error: `unknown field(s): ${unknown.join(', ')}` };
  if (typeof m.device_id !== 'string' || m.device_id === '') return { error: 'device_id: required, a string' };
  const topic = m.topic ?? 'commands';
  if (!(DEVICE_SUBSCRIBE_SUFFIXES as readonly unknown[]).includes(topic)) return { error: `topic: must be one of ${DEVICE_SUBSCRIBE_SUFFIXES.join(', ')}` };
  if (m.retain !== undefined && typeof m.retain !== 'boolean') return { error: 'retain: must be a boolean' };
  if (m.message_id !== undefined && typeof m.message_id !== 'string') return { error: 'message_id: must be a string' };
  const hasJson = 'payload' in m;
  const hasBytes = 'payload_base64' in m;
  if (hasJson === hasBytes) return { error: 'exactly one of payload and payload_base64 is required' };
  let payload: Buffer;
  if (hasBytes) {
    if (typeof m.payload_base64 !== 'string' || !BASE64.test(m.payload_base64)) return { error: 'payload_base64: must be a base64 string' };
    payload = Buffer.from(m.payload_base64, 'base64');
  } else {
    payload = Buffer.from(JSON.stringify(m.payload));
  }
  const suffix = topic as DownlinkTopic;
  return {
    deviceId: m.device_id,
    topic: suffix,
    payload,
    value: hasJson ? m.payload : undefined,
    // Configuration is retained by default, like PUT /devices/{id}/config: a device gets its latest
    // configuration whenever it subscribes. Commands and firmware notices are not.
    retain: typeof m.retain === 'boolean' ? m.retain : suffix === 'config',
    messageId: typeof m.message_id === 'string' ? m.message_id : undefined,
  };
}

export interface DownlinkOptions {
  log: Logger;
  /** The broker, once it runs; undefined = nothing to deliver through. */
  delivery: () => DeviceDelivery | undefined;
  deviceExists: (deviceId: string) => boolean;
  /** Largest MQTT message the local broker carries (mqtt.max_message_bytes). */
  maxMessageBytes: number;
}

/**
 * Delivers cloud messages to local devices through the local broker, at QoS 1, kept in the device's
 * persistent session while it is offline (the broker's persistence does that once aedes has it).
 *
 * `handle` resolves when the message is done with — delivered, or refused for good (not a valid
 * message, unknown device: logged and dropped) — and the cloud gets its PUBACK. It rejects only when
 * the local broker failed to take a valid message; the bridge then leaves it unacknowledged so the
 * cloud sends it again.
 */
export class Downlink {
  readonly counters = { delivered: 0, queued: 0, dropped: 0 };

  constructor(private readonly opts: DownlinkOptions) {}

  async handle(raw: Buffer): Promise<void> {
    const parsed = parseDownlink(raw);
    if ('error' in parsed) return this.drop(parsed.error, undefined);
    const { deviceId, topic, payload, retain, messageId, value } = parsed;
    if (!this.opts.deviceExists(deviceId)) return this.drop('unknown device', deviceId, messageId);
    if (payload.length > this.opts.maxMessageBytes) return this.drop(`payload of ${payload.length} bytes is over mqtt.max_message_bytes`, deviceId, messageId);
    const delivery = this.opts.delivery();
    if (!delivery) return this.drop('the local broker is not running', deviceId, messageId);
    if (topic === 'config' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      // Keep GET /devices/{id}/config in step with what the device was sent.
      await delivery.configs.put(deviceId, value as Record<string, unknown>);
    }
    const status = await delivery.send(deviceId, topic, payload, retain);
    this.counters[status] += 1;
    this.opts.log.info({ event: 'downlink_delivered', device_id: deviceId, topic, message_id: messageId, status, bytes: payload.length, retain }, `cloud ${topic} for ${deviceId}: ${status}`);
  }

  private drop(reason: string, deviceId: string | undefined, messageId?: string): void {
    this.counters.dropped += 1;
    this.opts.log.warn({ event: 'downlink_dropped', device_id: deviceId, message_id: messageId, reason }, `dropped a cloud message: ${reason}`);
  }
}
