import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { GatewayConfig } from '../config/schema.js';
import { Store } from '../store/store.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { VERSION } from '../version.js';
import { BACKUP_FORMAT, BACKUP_VERSION, CERT_FILES, type BackupDocument, type CertFileName } from './document.js';
import { BACKED_UP, prefixRange, retainedMessages } from './selection.js';

/**
 * Reads the registry, keys, device configs, retained messages and generated certificates of a
 * stopped gateway's data directory. LevelDB admits one process at a time, so this refuses while a
 * gateway runs on the directory — deliberately not an API route: the CA's private key never leaves
 * the machine over the network, and a backup is an operator's act on the machine itself.
 * It writes nothing: the store is opened without the format check that could migrate it.
 */
export async function takeSnapshot(config: GatewayConfig, now = new Date()): Promise<BackupDocument> {
  if (!existsSync(path.join(config.data_dir, 'db', 'CURRENT'))) {
    throw new GatewayError('not_found', `no gateway data in ${config.data_dir} (no db/ there); check --config or WAYS_EDGE_DATA_DIR`);
  }
  const store = new Store(config.data_dir, { migrate: false });
  try {
    await store.start();
  } catch (err) {
    if (isGatewayError(err) && err.code === 'store_locked') {
      throw new GatewayError('store_locked', `stop the gateway first: ${config.data_dir} is in use by a running ways-edge (backups are taken of a stopped gateway, e.g. systemctl stop ways-edge)`, { cause: err });
    }
    throw err;
  }
  try {
    const doc: BackupDocument = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      created_at: now.toISOString(),
      gateway: { name: config.gateway.name, release: VERSION },
      store_format: 0,
      store: { meta: {}, dev: {}, key: {}, st: {}, retained: {} },
      certs: await readCerts(path.join(config.data_dir, 'certs')),
    };
    for (const { part, sublevel, prefix } of BACKED_UP) {
      for await (const [key, value] of store.json<unknown>(sublevel).iterator(prefixRange(prefix))) doc.store[part][key] = value;
    }
    for await (const [topic, record] of retainedMessages(store).iterator()) doc.store.retained[topic] = record.toString('base64');
    const format = doc.store.meta.format_version;
    if (typeof format !== 'number') throw new GatewayError('store_corrupt', `the store in ${config.data_dir} has no format_version; it was never started by a gateway`);
    doc.store_format = format;
    return doc;
  } finally {
    await store.stop();
  }
}

async function readCerts(dir: string): Promise<BackupDocument['certs']> {
  const certs: BackupDocument['certs'] = {};
  for (const name of Object.keys(CERT_FILES) as CertFileName[]) {
    const bytes = await readFile(path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (bytes) certs[name] = bytes.toString('base64');
  }
  return certs;
}
