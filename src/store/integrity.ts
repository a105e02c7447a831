import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * A look at a LevelDB directory before LevelDB opens it, for the damage LevelDB would not refuse.
 *
 * classic-level opens without `paranoid_checks`, so LevelDB (1.20) by itself:
 * - with `CURRENT` missing, creates a new, empty database and deletes the existing tables as obsolete;
 * - replays a write-ahead log (`*.log`) with a damaged record by skipping the record (or the rest of
 *   its 32 KB block) and then deletes the log: acknowledged messages and counters would vanish
 *   silently;
 * - opens with a truncated table (`*.ldb`) and fails only when a read reaches it.
 * So the gateway checks these first and refuses to start over them, and leaves the files as they are
 * for a backup and `ways-edge repair-store` (docs/OPERATIONS.md "Recovering a damaged store").
 *
 * What LevelDB itself treats as the normal end of a crash is accepted: a log that ends inside its
 * last record (a write cut short by a power cut; the group commit syncs before acknowledging, so only
 * unacknowledged writes can be in it). It is reported so that the gateway can log it.
 */
export interface DbInspection {
  /** No LevelDB files at all: a new database may be created. */
  fresh: boolean;
  /** Damage that must stop the start, one sentence each. */
  problems: string[];
  /** Logs that end inside a record: the bytes LevelDB will drop. */
  tornTails: Array<{ file: string; droppedBytes: number }>;
}

const LOG = /^(\d+)\.log$/;
const TABLE = /^(\d+)\.(ldb|sst)$/;
const MANIFEST = /^MANIFEST-\d+$/;

export async function inspectDb(location: string): Promise<DbInspection> {
  const names = await readdir(location).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const logs = names.filter((n) => LOG.test(n)).sort();
  const tables = names.filter((n) => TABLE.test(n));
  const manifests = names.filter((n) => MANIFEST.test(n));
  const hasCurrent = names.includes('CURRENT');
  const result: DbInspection = { fresh: !hasCurrent && logs.length + tables.length + manifests.length === 0, problems: [], tornTails: [] };
  if (result.fresh) return result;

  if (!hasCurrent) {
    result.problems.push('the file CURRENT is missing (LevelDB would start a new, empty database and delete the existing tables)');
    return result;
  }
  const current = await readFile(path.join(location, 'CURRENT'), 'latin1');
  const named = /^(MANIFEST-\d+)\n$/.exec(current)?.[1];
  if (!named) { result.problems.push(`CURRENT does not name a MANIFEST file (it holds ${JSON.stringify(current.slice(0, 40))})`); return result; }
  if (!manifests.includes(named)) { result.problems.push(`CURRENT names ${named}, which is missing`); return result; }
  const manifest = readManifest(await readFile(path.join(location, named)));
  if (manifest.problem) { result.problems.push(`${named} ${manifest.problem}`); return result; }

  // The tables of the current version, as the MANIFEST lists them with their sizes. Other table files
  // are leftovers (a compaction cut short, an empty table of a repair) that LevelDB deletes at open.
  const byNumber = new Map(tables.map((n) => [Number(TABLE.exec(n)?.[1]), n]));
  for (const [number, size] of manifest.tables) {
    const file = byNumber.get(number);
    if (file === undefined) { result.problems.push(`table ${String(number).padStart(6, '0')}.ldb is missing`); continue; }
    const why = await tableProblem(path.join(location, file), size);
    if (why) result.problems.push(`table ${file} ${why}`);
  }
  // The logs LevelDB replays at open: those from the MANIFEST's log number on (older ones are obsolete).
  let records = 0;
  for (const log of logs) {
    const number = Number(LOG.exec(log)?.[1]);
    if (number < manifest.logNumber && number !== manifest.prevLogNumber) continue;
    const scan = readRecords(await readFile(path.join(location, log)), () => { records += 1; return undefined; });
    if (scan.problem) result.problems.push(`write-ahead log ${log} ${scan.problem}`);
    else if (scan.tornBytes > 0) result.tornTails.push({ file: log, droppedBytes: scan.tornBytes });
  }
  // Files but no data: opening it would make an empty database of it (the store then refuses too).
  if (result.problems.length === 0 && manifest.tables.size === 0 && records === 0) {
    result.problems.push('it holds no data at all: no tables, and its write-ahead log is empty (cut short or emptied)');
  }
  return result;
}

/** LevelDB's table footer ends with this magic number (fixed64, little-endian). */
const TABLE_MAGIC = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);

async function tableProblem(file: string, expectedSize: number): Promise<string | undefined> {
  const { size } = await stat(file);
  if (size !== expectedSize) return `is ${size < expectedSize ? 'truncated' : 'longer than recorded'} (${size} of ${expectedSize} bytes)`;
  if (size < TABLE_MAGIC.length) return `is too short to be a table (${size} bytes)`;
  const handle = await open(file, 'r');
  try {
    const magic = Buffer.alloc(TABLE_MAGIC.length);
    await handle.read(magic, 0, magic.length, size - magic.length);
    return magic.equals(TABLE_MAGIC) ? undefined : 'is damaged (no table footer at its end)';
  } finally {
    await handle.close();
  }
}

/** What the MANIFEST says about the current version: live tables (number → size) and the log numbers. */
interface Manifest { tables: Map<number, number>; logNumber: number; prevLogNumber: number; problem?: string }

/** VersionEdit tags (db/version_edit.cc). */
const TAG = { comparator: 1, logNumber: 2, nextFile: 3, lastSequence: 4, compactPointer: 5, deletedFile: 6, newFile: 7, prevLogNumber: 9 } as const;

/** Replays the MANIFEST's version edits (a log of records, like the write-ahead logs). */
export function readManifest(bytes: Buffer): Manifest {
  const files = new Map<string, { number: number; size: number }>();
  const manifest: Manifest = { tables: new Map(), logNumber: 0, prevLogNumber: 0 };
  const scan = readRecords(bytes, (edit) => {
    const r = new VarReader(edit);
    const deleted: string[] = [];
    const added: Array<[string, { number: number; size: number }]> = [];
    while (!r.done) {
      const tag = r.varint();
      if (tag === TAG.comparator) r.slice();
      else if (tag === TAG.logNumber) manifest.logNumber = r.varint();
      else if (tag === TAG.prevLogNumber) manifest.prevLogNumber = r.varint();
      else if (tag === TAG.nextFile || tag === TAG.lastSequence) r.varint();
      else if (tag === TAG.compactPointer) { r.varint(); r.slice(); }
      else if (tag === TAG.deletedFile) { const level = r.varint(); deleted.push(`${level}:${r.varint()}`); }
      else if (tag === TAG.newFile) {
        const level = r.varint();
        const number = r.varint();
        const size = r.varint();
        r.slice();
        r.slice();
        added.push([`${level}:${number}`, { number, size }]);
      } else return `has an unknown version edit tag ${tag}`;
    }
    // As LevelDB applies an edit: deletions first, then additions (a file moved to the next level).
    for (const key of deleted) files.delete(key);
    for (const [key, file] of added) files.set(key, file);
    return undefined;
  });
  if (scan.problem) return { ...manifest, problem: scan.problem };
  for (const { number, size } of files.values()) manifest.tables.set(number, size);
  return manifest;
}

/** Varints and length-prefixed slices of LevelDB's encoding (util/coding.h). */
class VarReader {
  private p = 0;
  constructor(private readonly b: Buffer) {}
  get done(): boolean { return this.p >= this.b.length; }
  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.p >= this.b.length) throw new Error('truncated varint');
      const byte = this.b[this.p++] as number;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 128;
    }
  }
  slice(): Buffer {
    const length = this.varint();
    if (this.p + length > this.b.length) throw new Error('truncated slice');
    const out = this.b.subarray(this.p, this.p + length);
    this.p += length;
    return out;
  }
}

/** LevelDB log format (db/log_format.h): 32 KB blocks of records with a 7-byte header. */
export const LOG_BLOCK_BYTES = 32_768;
const BLOCK = LOG_BLOCK_BYTES;
const HEADER = 7;
const MAX_RECORD_TYPE = 4;
const RECORD = { FULL: 1, FIRST: 2, MIDDLE: 3, LAST: 4 } as const;

/**
 * Walks a log file (a write-ahead log or the MANIFEST), checks every record's CRC32C as LevelDB's
 * reader does, and hands each whole record (fragments joined) to `onRecord`, which may name a problem.
 * A bad record is damage here, where LevelDB's replay would skip it; a writer never lets a record
 * cross a block boundary, so a length that would is damage too. A file that ends inside a record, or
 * after the first fragments of one, is a torn tail (`tornBytes`), which LevelDB drops without a word.
 */
export function readRecords(bytes: Buffer, onRecord: (record: Buffer) => string | undefined): { problem?: string; problemAt?: number; tornBytes: number } {
  let p = 0;
  /** Where the record being assembled from fragments (FIRST, MIDDLE…) began, and its parts. */
  let fragmentStart: number | undefined;
  let parts: Buffer[] = [];
  const torn = (from: number): { tornBytes: number } => ({ tornBytes: bytes.length - (fragmentStart ?? from) });
  const deliver = (record: Buffer, at: number): string | undefined => {
    try {
      const why = onRecord(record);
      return why === undefined ? undefined : `${why} (record at byte ${at})`;
    } catch (err) {
      return `has a malformed record at byte ${at} (${(err as Error).message})`;
    }
  };
  while (p < bytes.length) {
    const leftInBlock = BLOCK - (p % BLOCK);
    if (leftInBlock < HEADER) { p += leftInBlock; continue; } // block trailer (padding)
    if (p + HEADER > bytes.length) return torn(p);
    const stored = bytes.readUInt32LE(p);
    const length = bytes.readUInt16LE(p + 4);
    const type = bytes[p + 6] as number;
    if (type === 0 && length === 0) { p += leftInBlock; continue; } // preallocated zeros: LevelDB skips the block
    if (HEADER + length > leftInBlock) return { problem: `is damaged at byte ${p} (bad record length ${length})`, problemAt: p, tornBytes: 0 };
    if (p + HEADER + length > bytes.length) return torn(p);
    if (type > MAX_RECORD_TYPE) return { problem: `is damaged at byte ${p} (unknown record type ${type})`, problemAt: p, tornBytes: 0 };
    if (mask(crc32c(bytes, p + 6, p + HEADER + length)) !== stored) return { problem: `is damaged at byte ${p} (checksum mismatch)`, problemAt: p, tornBytes: 0 };
    const data = bytes.subarray(p + HEADER, p + HEADER + length);
    if (type === RECORD.FULL) {
      const why = deliver(data, p);
      if (why) return { problem: why, problemAt: p, tornBytes: 0 };
      fragmentStart = undefined;
    } else if (type === RECORD.FIRST) {
      fragmentStart = p;
      parts = [data];
    } else if (fragmentStart !== undefined) {
      parts.push(data);
      if (type === RECORD.LAST) {
        const why = deliver(Buffer.concat(parts), fragmentStart);
        if (why) return { problem: why, problemAt: fragmentStart, tornBytes: 0 };
        fragmentStart = undefined;
        parts = [];
      }
    }
    p += HEADER + length;
  }
  return fragmentStart === undefined ? { tornBytes: 0 } : torn(p);
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli) of bytes[from, to). */
export function crc32c(bytes: Buffer, from = 0, to = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = from; i < to; i++) crc = (CRC_TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** LevelDB stores CRCs masked (util/crc32c.h). */
function mask(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
