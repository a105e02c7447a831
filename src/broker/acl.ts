import { DEVICE_ID_PATTERN } from '../devices/device.js';
import { DEVICE_PUBLISH_SUFFIXES, DEVICE_SUBSCRIBE_SUFFIXES } from './topics.js';

/**
 * The topic ACL: pure functions of who is asking and the topic, deny by default. Every aedes hook
 * (src/broker/hooks.ts) asks these and nothing else, so the whole policy is this file, tested with a
 * table in test/broker/acl.test.ts.
 *
 * - A device publishes only `devices/{own id}/telemetry|events|status` and subscribes only to
 *   `devices/{own id}/commands|config|firmware` (no wildcards, not even inside its own subtree).
 * - An application (API key with the `mqtt` scope) subscribes to `devices/+/telemetry|events|status`
 *   or the same with a concrete device id, and publishes to `devices/{device id}/commands|config|firmware`.
 * - Nothing else: no `#`, no `$SYS`, no other levels.
 */
export type MqttPrincipal =
  | { readonly kind: 'device'; readonly deviceId: string }
  | { readonly kind: 'app'; readonly name: string };

type Suffixes = ReadonlySet<string>;
const UPSTREAM: Suffixes = new Set(DEVICE_PUBLISH_SUFFIXES);
const DOWNSTREAM: Suffixes = new Set(DEVICE_SUBSCRIBE_SUFFIXES);
const PREFIX = 'devices/';

/**
 * Splits `devices/<id>/<suffix>` without allocating an array (this runs for every message).
 * Returns undefined for anything with another shape (more or fewer levels, another root).
 */
function split(topic: string): { id: string; suffix: string } | undefined {
  if (!topic.startsWith(PREFIX)) return undefined;
  const slash = topic.indexOf('/', PREFIX.length);
  if (slash < 0 || topic.indexOf('/', slash + 1) >= 0) return undefined;
  return { id: topic.slice(PREFIX.length, slash), suffix: topic.slice(slash + 1) };
}

/** `topic` is exactly `devices/{deviceId}/{one of suffixes}`. */
function isOwn(topic: string, deviceId: string, suffixes: Suffixes): boolean {
  const parts = split(topic);
  return parts !== undefined && parts.id === deviceId && suffixes.has(parts.suffix);
}

/** `topic` is `devices/{some concrete device id}/{one of suffixes}` (or `+` for the id when `wildcard`). */
function isAnyDevice(topic: string, suffixes: Suffixes, wildcard: boolean): boolean {
  const parts = split(topic);
  if (parts === undefined || !suffixes.has(parts.suffix)) return false;
  return (wildcard && parts.id === '+') || DEVICE_ID_PATTERN.test(parts.id);
}

/** May `who` publish a message on `topic`? (Wills are held to the same rule.) */
export function mayPublish(who: MqttPrincipal, topic: string): boolean {
  return who.kind === 'device' ? isOwn(topic, who.deviceId, UPSTREAM) : isAnyDevice(topic, DOWNSTREAM, false);
}

/** May `who` subscribe with this filter? A refusal is SUBACK 0x80 for that filter. */
export function maySubscribe(who: MqttPrincipal, filter: string): boolean {
  return who.kind === 'device' ? isOwn(filter, who.deviceId, DOWNSTREAM) : isAnyDevice(filter, UPSTREAM, true);
}

/**
 * May a message on the concrete `topic` be delivered to `who`? The subscribe check already keeps
 * wrong filters out; this second check at delivery time holds even for a session restored from
 * before a policy change, and keeps the broker's own `$SYS` traffic away from clients.
 */
export function mayReceive(who: MqttPrincipal, topic: string): boolean {
  return who.kind === 'device' ? isOwn(topic, who.deviceId, DOWNSTREAM) : isAnyDevice(topic, UPSTREAM, false);
}

