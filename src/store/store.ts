import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import type { AbstractSublevel } from 'abstract-level';
import { GatewayError } from '../errors.js';
import type { Service } from '../lifecycle.js';
import { FORMAT_VERSION, SUBLEVELS, type SublevelName } from './layout.js';

export type Db = Level<string, unknown>;
export type JsonSublevel<V> = AbstractSublevel<Db, string | Buffer | Uint8Array, string, V>;
export type BufferSublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, string, Buffer>;

/**
 * The one LevelDB of the gateway, at `<data_dir>/db`. Opened first and closed last by the gateway.
 * LevelDB's own LOCK file keeps a second process out; we turn that into a clear message.
 */
export class Store implements Service {
  readonly name = 'store';
  readonly location: string;
  private readonly db: Db;

  constructor(dataDir: string) {
    this.location = path.join(dataDir, 'db');
    this.db = new Level<string, unknown>(this.location, { valueEncoding: 'json' });
  }

  get raw(): Db { return this.db; }

  async start(): Promise<void> {
    await mkdir(path.dirname(this.location), { recursive: true, mode: 0o700 });
    try {
      await this.db.open();
    } catch (err) {
      throw translateOpenError(err, this.location);
    }
    await this.migrate();
  }

  async stop(): Promise<void> {
    if (this.db.status === 'open') await this.db.close();
  }

  /** A JSON-valued sublevel, one per kind of record (see layout.ts). */
  json<V>(name: SublevelName): JsonSublevel<V> {
    return this.db.sublevel<string, V>(SUBLEVELS[name], { valueEncoding: 'json' });
  }

  /** A binary-valued sublevel (payloads are stored as they came). */
  binary(name: SublevelName): BufferSublevel {
    return this.db.sublevel<string, Buffer>(SUBLEVELS[name], { valueEncoding: 'buffer' });
  }

  /** The data format is versioned so that later releases can migrate it (deploy/update.sh relies on it). */
  private async migrate(): Promise<void> {
    const meta = this.json<number>('meta');
    const current = await meta.get('format_version');
    if (current === undefined) {
      await meta.put('format_version', FORMAT_VERSION);
    } else if (current > FORMAT_VERSION) {
      throw new GatewayError('store_corrupt', `the data in ${this.location} is format ${current}, newer than this release understands (${FORMAT_VERSION}); run the newer release or restore a backup`);
    }
  }
}

function translateOpenError(err: unknown, location: string): GatewayError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'LEVEL_LOCKED') {
    return new GatewayError('store_locked', `the data directory ${path.dirname(location)} is in use by another ways-edge process; stop it first (one gateway per data directory)`, { cause: err });
  }
  if (cause?.code === 'LEVEL_CORRUPTION' || /corrupt/i.test(cause?.message ?? '')) {
    return new GatewayError('store_corrupt', `the database at ${location} is corrupt (${cause?.message ?? 'unknown'}); see docs/OPERATIONS.md "Recovering a damaged store" — the gateway will not start empty over it`, { cause: err });
  }
  return new GatewayError('store_corrupt', `cannot open the database at ${location}: ${cause?.message ?? (err as Error).message}`, { cause: err });
}

/**
 * Write options for records that must survive a power cut: LevelDB syncs its log before the write
 * resolves. (Sublevels forward options to the parent; `keyEncoding` is named only so that the
 * sublevel's option type accepts the object.)
 */
export const SYNC: { sync: true; keyEncoding?: undefined } = { sync: true };
