import { gunzipSync, gzipSync } from 'node:zlib';
import { GatewayError } from '../errors.js';

/**
 * The backup file: one JSON document (gzip-compressed when the file name ends in .gz; a reader tells
 * by the first bytes). It holds secrets — the CA's private key and the password and key hashes — so
 * it is written 0600 (src/cli/backup.ts). docs/MAINTENANCE.md describes it for operators.
 *
 *   format        "ways-edge-backup"
 *   version       1 (this layout)
 *   created_at    ISO 8601 UTC
 *   gateway       {name, release} of the gateway that made it
 *   store_format  meta/format_version of the store it was read from (a newer release migrates it)
 *   store         the records: meta, dev (devices with password hashes), key (API key hashes),
 *                 st (device config documents only), retained (retained MQTT messages, base64)
 *   certs         data_dir/certs/{ca.crt, ca.key, server.crt, server.key}, base64; absent files omitted
 *
 * Not in it: usage history, the uplink outbox and its numbering, MQTT subscriptions and queued
 * messages, and any API key itself (only hashes are stored anywhere).
 */
export const BACKUP_FORMAT = 'ways-edge-backup';
export const BACKUP_VERSION = 1;

/** The files of data_dir/certs a backup carries, and the mode each is restored with. */
export const CERT_FILES = { 'ca.crt': 0o644, 'ca.key': 0o600, 'server.crt': 0o644, 'server.key': 0o600 } as const;
export type CertFileName = keyof typeof CERT_FILES;

export interface BackupDocument {
  format: typeof BACKUP_FORMAT;
  version: number;
  created_at: string;
  gateway: { name: string; release: string };
  store_format: number;
  store: {
    meta: Record<string, unknown>;
    dev: Record<string, unknown>;
    key: Record<string, unknown>;
    st: Record<string, unknown>;
    retained: Record<string, string>;
  };
  certs: Partial<Record<CertFileName, string>>;
}

const GZIP_MAGIC = [0x1f, 0x8b];

export function encodeBackup(doc: BackupDocument, gzip: boolean): Buffer {
  const json = Buffer.from(JSON.stringify(doc, null, 1) + '\n');
  return gzip ? gzipSync(json) : json;
}

/** Parses and checks a backup file's bytes; a wrong or damaged file is refused with the reason. */
export function decodeBackup(bytes: Buffer, file: string): BackupDocument {
  let doc: unknown;
  try {
    const json = bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1] ? gunzipSync(bytes) : bytes;
    doc = JSON.parse(json.toString('utf8'));
  } catch (err) {
    throw new GatewayError('bad_request', `${file} is not a ways-edge backup (${(err as Error).message})`, { cause: err });
  }
  const problem = problemOf(doc);
  if (problem) throw new GatewayError('bad_request', `${file} is not a usable ways-edge backup: ${problem}`);
  return doc as BackupDocument;
}

function problemOf(doc: unknown): string | undefined {
  if (!isObject(doc) || doc.format !== BACKUP_FORMAT) return `"format" is not "${BACKUP_FORMAT}"`;
  if (typeof doc.version !== 'number') return '"version" is missing';
  if (doc.version > BACKUP_VERSION) return `it is version ${doc.version}, made by a newer release (this one reads up to ${BACKUP_VERSION})`;
  if (typeof doc.store_format !== 'number') return '"store_format" is missing';
  if (!isObject(doc.store)) return '"store" is missing';
  for (const part of ['meta', 'dev', 'key', 'st', 'retained'] as const) if (!isObject(doc.store[part])) return `"store.${part}" is missing`;
  if (!Object.values(doc.store.retained as object).every((v) => typeof v === 'string')) return '"store.retained" values must be base64 strings';
  if (!isObject(doc.certs)) return '"certs" is missing';
  for (const [name, value] of Object.entries(doc.certs)) {
    if (!(name in CERT_FILES) || typeof value !== 'string') return `"certs.${name}" is not one of ${Object.keys(CERT_FILES).join(', ')} as base64`;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
