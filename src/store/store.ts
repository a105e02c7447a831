import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import type { AbstractSublevel } from 'abstract-level';
import { GatewayError } from '../errors.js';
import type { Service } from '../lifecycle.js';
import { SUBLEVELS, type SublevelName } from './layout.js';
import { MIGRATIONS, checkMigrations, targetFormat, type Migration } from './migrations.js';
import type { Logger } from '../log.js';
import { inspectDb } from './integrity.js';
import { holdOpen, type OpenDecision } from './gated-level.js';
import { WriteFailureRecovery } from './write-failure.js';
import { TypedEmitter } from '../typed-emitter.js';

export type Db = Level<string, unknown>;

export type StoreEvents = {
  /** A write failed with an I/O error (a full disk): writes are refused until `reopened`. */
  write_failed: [reason: string];
  reopened: [];
};
export type JsonSublevel<V> = AbstractSublevel<Db, string | Buffer | Uint8Array, string, V>;
export type BufferSublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, string, Buffer>;

/**
 * The one LevelDB of the gateway, at `<data_dir>/db`. Opened first and closed last by the gateway.
 * LevelDB's own LOCK file keeps a second process out; we turn that into a clear message.
 */
export class Store implements Service {
  readonly name = 'store';
  readonly events = new TypedEmitter<StoreEvents>();
  readonly location: string;
  private readonly db: Db;
  private readonly allowOpen: (decision: OpenDecision) => void;
  private readonly writeFailures: WriteFailureRecovery;
  private readonly migrations: readonly Migration[];
  private readonly log: Logger | undefined;
  private readonly checkFormat: boolean;

  /**
   * `opts.migrations` replaces the release's list (tests simulate an older or newer format with it).
   * `opts.migrate: false` opens the data as it is, without checking or writing its format: for
   * `ways-edge backup`, which records the format it found and must not change the data it copies.
   */
  constructor(dataDir: string, opts: { migrations?: readonly Migration[]; log?: Logger; migrate?: boolean } = {}) {
    this.location = path.join(dataDir, 'db');
    this.db = new Level<string, unknown>(this.location, { valueEncoding: 'json' });
    // LevelDB opens once start() has looked at the files (src/store/gated-level.ts).
    this.allowOpen = holdOpen(this.db);
    this.migrations = opts.migrations ?? MIGRATIONS;
    this.log = opts.log;
    // After a write fails with an I/O error (a full disk): no more writes, and a reopen (src/store/write-failure.ts).
    this.writeFailures = new WriteFailureRecovery(this.db, opts.log, (failure) => {
      if (failure) this.events.emit('write_failed', failure.message);
      else this.events.emit('reopened');
    });
    this.checkFormat = opts.migrate ?? true;
  }

  /** The data format this store writes (the last migration's). */
  get formatVersion(): number { return targetFormat(this.migrations); }

  get raw(): Db { return this.db; }

  /** Whether writes are refused now: after a failed write, until LevelDB has been reopened. */
  get recovering(): boolean { return this.writeFailures.recovering; }

  async start(): Promise<void> {
    await mkdir(path.dirname(this.location), { recursive: true, mode: 0o700 });
    // Damage LevelDB would not refuse by itself, checked before it touches the files (src/store/integrity.ts).
    const found = await inspectDb(this.location);
    if (found.problems.length > 0) throw damagedStore(this.location, found.problems.join('; '));
    for (const torn of found.tornTails) {
      this.log?.warn({ event: 'store_log_tail_dropped', file: torn.file, bytes: torn.droppedBytes },
        `the write-ahead log ${torn.file} ends inside a record (a write cut short, e.g. by a power cut): its last ${torn.droppedBytes} bytes are dropped; they were never acknowledged`);
    }
    try {
      // Only an empty directory becomes a new database: never create one over existing files.
      this.allowOpen({ createIfMissing: found.fresh });
      await this.db.open();
    } catch (err) {
      throw translateOpenError(err, this.location);
    }
    try {
      if (!found.fresh && (await this.json<number>('meta').get('format_version')) === undefined) {
        throw damagedStore(this.location, 'its files exist but it holds no gateway data (its write-ahead log may have been cut short or emptied)');
      }
      if (this.checkFormat) await this.migrate();
    } catch (err) {
      // A refused or failed migration must not leave the LevelDB lock held (the gateway stops only started services).
      await this.db.close();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.writeFailures.stop();
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

  /**
   * The data format is versioned so that later releases can migrate it (deploy/update.sh rolls back a
   * release whose start fails). A new store is written in the newest format; an older one is brought
   * up step by step (src/store/migrations.ts); a newer one is refused untouched, because this release
   * would misread it.
   */
  private async migrate(): Promise<void> {
    checkMigrations(this.migrations);
    const target = this.formatVersion;
    const meta = this.json<number>('meta');
    const current = await meta.get('format_version');
    if (current === undefined) {
      await meta.put('format_version', target, SYNC);
      return;
    }
    if (current > target) {
      throw new GatewayError('store_corrupt', `the data in ${this.location} is format ${current}, newer than this release understands (${target}); run the newer release or restore a backup made for this one`);
    }
    for (const step of this.migrations) {
      if (step.to <= current) continue;
      const t0 = performance.now();
      await step.up(this.db);
      await meta.put('format_version', step.to, SYNC);
      this.log?.info({ event: 'store_migrated', from: step.to - 1, to: step.to, ms: Math.round(performance.now() - t0) }, `data format ${step.to - 1} → ${step.to}: ${step.description}`);
    }
  }
}

function translateOpenError(err: unknown, location: string): GatewayError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'LEVEL_LOCKED') {
    return new GatewayError('store_locked', `the data directory ${path.dirname(location)} is in use by another ways-edge process; stop it first (one gateway per data directory)`, { cause: err });
  }
  const message = cause?.message ?? (err as Error).message;
  if (isDamage(cause?.code, message)) return damagedStore(location, message, err);
  return new GatewayError('store_corrupt', `cannot open the database at ${location}: ${message}`, { cause: err });
}

/**
 * LevelDB's answer names damage to its files (corruption, a file it needs that is gone or cut short),
 * as opposed to a problem of the system around them (permissions, a read-only or full filesystem).
 */
function isDamage(code: unknown, message: string): boolean {
  if (/Permission denied|Read-only file system|No space left|Too many open files/i.test(message)) return false;
  return code === 'LEVEL_CORRUPTION' || /corrupt|No such file|Invalid argument|truncated|bad magic|missing files/i.test(message);
}

/** The refusal to start over a damaged store, with the way out. */
export function damagedStore(location: string, what: string, cause?: unknown): GatewayError {
  return new GatewayError('store_corrupt', `the database at ${location} is damaged: ${what}. The gateway will not start over it, nor start empty in its place: `
    + `see docs/OPERATIONS.md "Recovering a damaged store" (back up ${location}, then run \`ways-edge repair-store\` or restore a backup)`, cause === undefined ? {} : { cause });
}

/**
 * A LevelDB read that fails during the start because a table is damaged (LevelDB opens tables only
 * when it first reads them), or a record that does not decode, becomes the same clear refusal; any
 * other error is returned as it is.
 */
export function asStoreFailure(err: unknown, location: string): unknown {
  const code = (err as { code?: unknown }).code ?? (err as { cause?: { code?: unknown } }).cause?.code;
  // A record that does not decode was not written by the gateway as it reads now: damage as well.
  if (code === 'LEVEL_DECODE_ERROR') return damagedStore(location, `a record does not decode (${(err as Error).message})`, err);
  if (code !== 'LEVEL_CORRUPTION' && code !== 'LEVEL_IO_ERROR') return err;
  if (!isDamage(code, (err as Error).message)) return err;
  return damagedStore(location, (err as Error).message, err);
}

/**
 * Write options for records that must survive a power cut: LevelDB syncs its log before the write
 * resolves. (Sublevels forward options to the parent; `keyEncoding` is named only so that the
 * sublevel's option type accepts the object.)
 */
export const SYNC: { sync: true; keyEncoding?: undefined } = { sync: true };

