import type { AbstractSublevel } from 'abstract-level';
import type { Db, Store } from '../store/store.js';
import { SUBLEVELS, type SublevelName } from '../store/layout.js';
import { SUBLEVEL } from '../broker/persistence/keys.js';
import { KEY_PREFIX as CONFIG_KEY_PREFIX } from '../broker/device-config.js';
import type { BackupDocument } from './document.js';

type JsonPart = Exclude<keyof BackupDocument['store'], 'retained'>;

/**
 * Which records a backup carries (docs/STORE.md names the sublevels): what a restored gateway needs to
 * accept the same devices and keys and to hand devices their configuration again. Usage history, the
 * outbox and the uplink's numbering stay behind: a restored gateway starts those afresh (a new outbox
 * id, so the cloud cannot mistake its messages for the old gateway's).
 */
export const BACKED_UP: ReadonlyArray<{ part: JsonPart; sublevel: SublevelName; prefix?: string }> = [
  { part: 'meta', sublevel: 'meta' },
  { part: 'dev', sublevel: 'devices' },
  { part: 'key', sublevel: 'keys' },
  // Device config documents (GET /devices/{id}/config), not the uplink's state in the same sublevel.
  { part: 'st', sublevel: 'state', prefix: CONFIG_KEY_PREFIX },
];

export type RetainedSublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, string, Buffer>;

/**
 * Retained MQTT messages (a device's config on `devices/{id}/config`, firmware notices, statuses), as
 * the session persistence stores them (docs/PERSISTENCE.md): topic → packet record, copied as bytes.
 * Addressed from the root by its path (the same keys as `sessions.sublevel('retained')`), so that a
 * restore can write it in the same atomic batch as everything else.
 */
export function retainedMessages(store: Store): RetainedSublevel {
  return store.raw.sublevel<string, Buffer>([SUBLEVELS.sessions, SUBLEVEL.retained], { keyEncoding: 'utf8', valueEncoding: 'buffer' });
}

/** Range options selecting the keys that start with `prefix` (all keys when undefined). */
export function prefixRange(prefix: string | undefined): { gte?: string; lt?: string } {
  return prefix === undefined ? {} : { gte: prefix, lt: prefix + '\xff' };
}
