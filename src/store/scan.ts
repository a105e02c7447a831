import type { AbstractIterator } from 'abstract-level';

/**
 * Read options for reads whose results are kept in memory or not needed again (a start-up scan, an
 * API query): classic-level's `fillCache: false` keeps them out of LevelDB's block cache, which
 * would otherwise hold up to 8 MB of them for good. abstract-level's option types do not name it;
 * sublevels forward it to classic-level all the same.
 */
export const UNCACHED: { fillCache: false; keyEncoding?: undefined } = { fillCache: false };

/** Entries read per step of a scan. */
const CHUNK = 1_000;

/**
 * Runs `onEntry` over every entry of `iterator`, read a chunk at a time (nextv), and closes it. A
 * `for await` over an iterator makes a promise and a result object per entry: over a scan of the
 * 150,000 usage rows of 5,000 devices' month (the meter's start-up read, before the totals rows)
 * that garbage grew V8's young generation to 32 MB, which it then kept for minutes of idling.
 */
export async function scanEntries<Db, K, V>(iterator: AbstractIterator<Db, K, V>, onEntry: (key: K, value: V) => void): Promise<void> {
  try {
    for (let chunk = await iterator.nextv(CHUNK); chunk.length > 0; chunk = await iterator.nextv(CHUNK)) {
      for (const [key, value] of chunk) onEntry(key, value);
    }
  } finally {
    await iterator.close();
  }
}
