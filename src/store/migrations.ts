import type { Level } from 'level';
import type { UsageCounters } from '../metering/usage.js';
import { writeTotalsOfAllRows } from '../metering/usage-totals.js';

/**
 * Upgrades of the data format, in order. The format number is `meta/format_version`; format 1 is the
 * first one and has no migration. A release that changes what is stored appends one entry here
 * (`{ to: 2, description, up }`) and FORMAT_VERSION follows by itself. Each step runs once, and the
 * store records `to` (synced) only after `up` resolved: a step cut short by a power cut runs again on
 * the next start, so `up` must be safe to repeat.
 *
 * Steps are never removed or changed once released: a gateway may skip releases (deploy/update.sh
 * installs any newer one), and then it runs every step between its format and the current one.
 */
export interface Migration {
  /** The format this step produces; the previous step's `to` plus one (the first step: 2). */
  readonly to: number;
  /** One line for the log and docs/STORE.md. */
  readonly description: string;
  /** Rewrites the data of format `to - 1` into format `to`. Gets the root database (every sublevel). */
  up(db: Level<string, unknown>): Promise<void>;
}

/** The first data format; a new store is written in the newest one directly. */
export const FIRST_FORMAT = 1;

export const MIGRATIONS: readonly Migration[] = [
  {
    to: 2,
    description: 'outbox records hold the entries of a whole group commit (src/uplink/outbox-record.ts); usage rows are journaled (src/metering/usage-journal.ts)',
    // Nothing to rewrite: a format-1 entry reads as a record of one, and a store without a journal
    // has nothing to replay. The step exists so that an older release, which would misread the new
    // records as entries and ignore the journal, refuses the store instead.
    up: async () => {},
  },
  {
    to: 3,
    description: 'usage totals are stored beside the day rows: each device\'s month (`~m!`) and each day\'s over every device (`~d!`), src/metering/usage.ts',
    up: (db) => writeTotalsOfAllRows(db.sublevel<string, UsageCounters>(USAGE_SUBLEVEL, { valueEncoding: 'json' }), SYNCED),
  },
];

/** The usage sublevel's name (SUBLEVELS.usage in layout.ts, which imports this module). */
const USAGE_SUBLEVEL = 'use';
/** store.ts's SYNC (store.ts imports this module): the sublevel's option type accepts it with keyEncoding named. */
const SYNCED: { sync: true; keyEncoding?: undefined } = { sync: true };

/** The format a list of migrations leads to. */
export function targetFormat(migrations: readonly Migration[]): number {
  return migrations.at(-1)?.to ?? FIRST_FORMAT;
}

/** Throws unless the steps go FIRST_FORMAT+1, +2, … without gaps: a mistake caught by the first test run. */
export function checkMigrations(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.to !== FIRST_FORMAT + 1 + i) throw new Error(`migration #${i} ("${m.description}") goes to format ${m.to}; expected ${FIRST_FORMAT + 1 + i}`);
  });
}
