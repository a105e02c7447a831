import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import type { GatewayConfig } from '../config/schema.js';
import { Store, SYNC } from '../store/store.js';
import { FORMAT_VERSION } from '../store/layout.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { sha256Hex } from '../auth/secrets.js';
import { CERT_FILES, type BackupDocument, type CertFileName } from './document.js';
import { BACKED_UP, retainedMessages } from './selection.js';

export interface RestoreSummary {
  devices: number;
  keys: number;
  configs: number;
  retained: number;
  certs: CertFileName[];
  /** SHA-256 fingerprint of the restored CA certificate, when the backup had one. */
  caFingerprint: string | undefined;
  /** What became of an admin.key already in the data directory (--force). */
  adminKey: 'absent' | 'kept' | 'removed';
  /** With --force: where the replaced db/ and certs/ were moved (kept until the operator removes them). */
  setAside: string[];
}

/**
 * Writes a backup into config.data_dir: into an empty (or new) directory only, unless `force`. With
 * `force` the db/ and certs/ there are moved aside (`db.replaced-<time>`; a damaged store too, which
 * is a reason to restore) rather than deleted: the operator removes them once the restored gateway
 * runs. The gateway must be stopped (LevelDB admits one process). The store is written in one atomic
 * batch, in the backup's format; the next start migrates it if this release is newer.
 */
export async function restoreSnapshot(config: GatewayConfig, doc: BackupDocument, opts: { force: boolean }, now = new Date()): Promise<RestoreSummary> {
  const dir = config.data_dir;
  if (doc.store_format > FORMAT_VERSION) {
    throw new GatewayError('bad_request', `the backup's data is format ${doc.store_format}, newer than this release understands (${FORMAT_VERSION}); restore it with the release that made it (${doc.gateway.release}) or a newer one`);
  }
  const existing = existingData(dir);
  if (existing.length > 0 && !opts.force) {
    throw new GatewayError('conflict', `${dir} already holds gateway data (${existing.join(', ')}); restore into an empty or new data directory, or pass --force to replace it (the replaced data is moved aside, not deleted)`);
  }
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const setAside: string[] = [];
  if (opts.force) {
    await assertNotRunning(dir);
    for (const name of ['db', ...(Object.keys(doc.certs).length > 0 ? ['certs'] : [])]) {
      const from = path.join(dir, name);
      if (!existsSync(from)) continue;
      const to = `${from}.replaced-${stamp}`;
      await rename(from, to);
      setAside.push(to);
    }
  }

  const store = new Store(dir, { migrate: false });
  await store.start();
  try {
    const batch = store.raw.batch();
    for (const { part, sublevel } of BACKED_UP) {
      const target = store.json<unknown>(sublevel);
      for (const [key, value] of Object.entries(doc.store[part])) batch.put(key, value, { sublevel: target });
    }
    const retained = retainedMessages(store);
    for (const [topic, b64] of Object.entries(doc.store.retained)) batch.put(topic, Buffer.from(b64, 'base64'), { sublevel: retained });
    batch.put('format_version', doc.store_format, { sublevel: store.json<unknown>('meta') });
    await batch.write(SYNC);
  } finally {
    await store.stop();
  }

  const certs = await writeCerts(path.join(dir, 'certs'), doc.certs);
  const caPem = doc.certs['ca.crt'];
  return {
    devices: Object.keys(doc.store.dev).length,
    keys: Object.keys(doc.store.key).length,
    configs: Object.keys(doc.store.st).length,
    retained: Object.keys(doc.store.retained).length,
    certs,
    caFingerprint: caPem ? new X509Certificate(Buffer.from(caPem, 'base64')).fingerprint256 : undefined,
    adminKey: await reconcileAdminKey(dir, doc),
    setAside,
  };
}

/**
 * Refuses while a gateway holds the store. Opening it is how LevelDB tells (its LOCK file); a store
 * the gateway would refuse as damaged is refused before LevelDB touches it (src/store/store.ts), and
 * it cannot be in use, so it is replaced like any other.
 */
async function assertNotRunning(dir: string): Promise<void> {
  if (!existsSync(path.join(dir, 'db'))) return;
  const store = new Store(dir, { migrate: false });
  try {
    await store.start();
    await store.stop();
  } catch (err) {
    if (isGatewayError(err) && err.code === 'store_locked') throw new GatewayError('store_locked', `stop the gateway first: ${dir} is in use by a running ways-edge`, { cause: err });
    if (!(isGatewayError(err) && err.code === 'store_corrupt')) throw err;
  }
}

/** What in `dir` a restore would overwrite. */
function existingData(dir: string): string[] {
  const found: string[] = [];
  if (existsSync(path.join(dir, 'db', 'CURRENT'))) found.push('db/');
  for (const name of Object.keys(CERT_FILES)) if (existsSync(path.join(dir, 'certs', name))) found.push(`certs/${name}`);
  if (existsSync(path.join(dir, 'admin.key'))) found.push('admin.key');
  return found;
}

async function writeCerts(dir: string, certs: BackupDocument['certs']): Promise<CertFileName[]> {
  const written: CertFileName[] = [];
  if (Object.keys(certs).length === 0) return written;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const name of Object.keys(CERT_FILES) as CertFileName[]) {
    const b64 = certs[name];
    if (b64 === undefined) continue;
    const file = path.join(dir, name);
    await writeFile(file, Buffer.from(b64, 'base64'), { mode: CERT_FILES[name] });
    // writeFile's mode applies only to a new file; an overwritten one keeps its mode otherwise.
    await chmod(file, CERT_FILES[name]);
    written.push(name);
  }
  return written;
}

/**
 * admin.key is not in a backup (no key is stored anywhere, only hashes). One already in the directory
 * stays if it is one of the restored keys, and is removed otherwise: the CLI would use a dead key.
 */
async function reconcileAdminKey(dir: string, doc: BackupDocument): Promise<RestoreSummary['adminKey']> {
  const file = path.join(dir, 'admin.key');
  const key = (await readFile(file, 'utf8').catch(() => undefined))?.trim();
  if (key === undefined) return 'absent';
  const hash = sha256Hex(key);
  const restored = Object.values(doc.store.key).some((record) => typeof record === 'object' && record !== null && (record as { sha256?: unknown }).sha256 === hash);
  if (restored) return 'kept';
  await rm(file, { force: true });
  return 'removed';
}
