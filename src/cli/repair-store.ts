import { cp, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import type { GatewayConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { Store } from '../store/store.js';
import type { SublevelName } from '../store/layout.js';
import { repairDb } from '../store/repair.js';

const out = (s: string): boolean => process.stdout.write(s + '\n');
/** Sublevels whose values are JSON documents (the others hold binary payloads or nested sublevels). */
const JSON_RECORDS: ReadonlySet<SublevelName> = new Set(['devices', 'keys', 'usage']);

/**
 * `ways-edge repair-store`: the documented way back from a damaged store (docs/OPERATIONS.md
 * "Recovering a damaged store"). With the gateway stopped it copies data_dir/db aside untouched
 * (db.damaged-<time>), runs LevelDB's own repair (it rebuilds CURRENT and the MANIFEST from the tables
 * and logs it can read, keeps every record whose checksum holds, and moves what it cannot read to
 * db/lost/), then opens the result the way the gateway would and says what is in it.
 */
export async function repairStoreCommand(config: GatewayConfig): Promise<void> {
  const location = path.join(config.data_dir, 'db');
  if (!(await stat(location).catch(() => undefined))?.isDirectory()) throw new GatewayError('bad_request', `there is no database at ${location}`);
  await assertNotRunning(location);

  const backup = `${location}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await cp(location, backup, { recursive: true, errorOnExist: true, force: false, preserveTimestamps: true });
  out(`copied the damaged database to ${backup} (${await sizeOf(backup)} bytes); it is not changed by what follows`);

  // LevelDB's repair minus the log records whose checksum fails (LevelDB 1.20 would keep them: src/store/repair.ts).
  for (const skip of await repairDb(location)) {
    out(`left out ${skip.bytes} bytes of the write-ahead log ${skip.file} from byte ${skip.at} (a damaged record and the rest of its block: ${skip.why.replace(/^is /, '')})`);
  }
  const lost = await readdir(path.join(location, 'lost')).catch(() => [] as string[]);
  out(`LevelDB repaired ${location}${lost.length > 0 ? `; files it could not read (or replaced) are in ${path.join(location, 'lost')}: ${lost.join(', ')}` : ''}`);

  // Opened as the gateway opens it, without migrating: what a start would find.
  const store = new Store(config.data_dir, { migrate: false });
  const unusable = (err: unknown): GatewayError => new GatewayError('store_corrupt', `after the repair the database still cannot be used: ${(err as Error).message}. Restore a backup (ways-edge restore FILE), or move ${location} aside to start with an empty gateway`, { cause: err });
  try {
    await store.start();
  } catch (err) {
    throw unusable(err);
  }
  const counts: string[] = [];
  try {
    for (const [name, label] of [['devices', 'devices'], ['keys', 'API keys'], ['usage', 'usage rows'], ['outbox', 'outbox records'], ['sessions', 'MQTT session records']] as Array<[SublevelName, string]>) {
      let n = 0;
      // JSON records are decoded as the gateway's start will decode them; the binary ones are counted.
      const records = JSON_RECORDS.has(name) ? store.json<unknown>(name).values() : store.json<unknown>(name).keys();
      for await (const _record of records) n += 1;
      counts.push(`${n} ${label}`);
    }
  } catch (err) {
    throw unusable(err);
  } finally {
    await store.stop();
  }
  out(`the repaired database holds ${counts.join(', ')}`);
  out('records that were damaged are gone (their messages, counters or settings): compare with what you expect, then start the gateway');
}

/**
 * Refuses while a gateway holds the database. Opening with errorIfExists makes LevelDB stop right
 * after taking its lock, before it reads anything: either LEVEL_LOCKED (someone has it) or an
 * "exists"/"does not exist" refusal (free).
 */
async function assertNotRunning(location: string): Promise<void> {
  const probe = new Level<string, unknown>(location, { createIfMissing: false, errorIfExists: true });
  try {
    await probe.open();
    await probe.close();
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'LEVEL_LOCKED') throw new GatewayError('store_locked', `the database at ${location} is in use by a running gateway; stop it first`);
  }
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? await sizeOf(full) : (await stat(full)).size;
  }
  return total;
}
