import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import { LOG_BLOCK_BYTES, readRecords } from './integrity.js';

/** A damaged stretch of a write-ahead log that the repair left out. */
export interface SkippedLogBytes { file: string; at: number; bytes: number; why: string }

const LOG = /^\d+\.log$/;

/**
 * LevelDB's own repair (`ClassicLevel.repair`), minus the damaged records of the write-ahead logs.
 *
 * The LevelDB 1.20 that classic-level bundles converts every log into a table with checksums OFF
 * (db/repair.cc opens its log::Reader with "do not checksum", under a comment that says the opposite). A garbled
 * record therefore came back as a record: garbage in a JSON value (the gateway then failed at start
 * with "Iterator could not decode data") or in a key. So first every log is checked the way
 * LevelDB's checksumming reader would, and from each damaged record to the end of its 32 KB block —
 * exactly what that reader drops, since a damaged length says nothing about where the next record
 * starts — the bytes are zeroed. A zero header is what LevelDB's reader skips as the rest of a
 * preallocated block, and it ends a record split across blocks there, so no fragment of a damaged
 * record is joined to anything. Call it only on a copy already taken (repair-store keeps one).
 */
export async function repairDb(location: string): Promise<SkippedLogBytes[]> {
  const skipped: SkippedLogBytes[] = [];
  for (const name of (await readdir(location)).filter((n) => LOG.test(n)).sort()) {
    const file = path.join(location, name);
    const bytes = await readFile(file);
    let changed = false;
    // Each pass blanks one damaged stretch; the next pass finds the next one, until the log reads clean.
    for (;;) {
      const scan = readRecords(bytes, () => undefined);
      if (scan.problem === undefined || scan.problemAt === undefined) break;
      const at = scan.problemAt;
      const end = Math.min(bytes.length, (Math.floor(at / LOG_BLOCK_BYTES) + 1) * LOG_BLOCK_BYTES);
      bytes.fill(0, at, end);
      skipped.push({ file: name, at, bytes: end - at, why: scan.problem });
      changed = true;
    }
    if (changed) await writeFile(file, bytes);
  }
  await (Level as unknown as { repair(location: string): Promise<void> }).repair(location);
  return skipped;
}
