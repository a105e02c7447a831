/**
 * Key layout of the gateway's LevelDB (documented in docs/STORE.md). Each kind of record lives in its
 * own sublevel; sublevel names are short because they prefix every key.
 *
 *   meta      format_version → number (src/store/migrations.ts); quota_period → {month, started_at}
 *   devices   <device_id> → DeviceRecord (JSON)
 *   keys      <key name> → ApiKeyRecord (JSON, SHA-256 of the key only)
 *   usage     <YYYY-MM-DD>!<device_id> → UsageCounters (JSON); day in gateway.timezone
 *             ~m!<YYYY-MM>!<device_id>, ~d!<YYYY-MM-DD> → their totals: a device's month, a day's
 *   outbox    <seq of its first entry: 16 hex digits> → outbox record: the entries of one group
 *             commit (binary, src/uplink/outbox-record.ts); the uplink's durable queue
 *   sessions  aedes persistence (subscriptions, retained, queued QoS 1 packets, wills)
 *   state     small per-service state (uplink sequence numbers, config documents of devices)
 */
import { MIGRATIONS, targetFormat } from './migrations.js';

/** The data format this release writes: the last migration's (src/store/migrations.ts). */
export const FORMAT_VERSION = targetFormat(MIGRATIONS);

export const SUBLEVELS = {
  meta: 'meta',
  devices: 'dev',
  keys: 'key',
  usage: 'use',
  outbox: 'out',
  sessions: 'ses',
  state: 'st',
} as const;

export type SublevelName = keyof typeof SUBLEVELS;
