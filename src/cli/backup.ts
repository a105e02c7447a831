import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GatewayConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { decodeBackup, encodeBackup } from '../backup/document.js';
import { takeSnapshot } from '../backup/snapshot.js';
import { restoreSnapshot } from '../backup/restore.js';

/**
 * `ways-edge backup FILE`: the registry, API key hashes, device configs, retained messages and the
 * generated certificates of a stopped gateway, in one 0600 file (gzip when FILE ends in .gz or with
 * --gzip). FILE `-` is stdout, for `sudo ways-edge backup - > file`: the installed CLI runs as the
 * service user, who may not write where the admin wants the file.
 */
export async function backupCommand(config: GatewayConfig, file: string | undefined, gzip: boolean): Promise<void> {
  if (!file) throw new GatewayError('bad_request', 'usage: ways-edge backup FILE|- [--gzip] [--config FILE]');
  const doc = await takeSnapshot(config);
  const toStdout = file === '-';
  const target = toStdout ? 'stdout' : path.resolve(file);
  const bytes = encodeBackup(doc, gzip || target.endsWith('.gz'));
  if (toStdout) await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (err) => (err ? reject(err) : resolve())));
  else await writePrivateFile(target, bytes);
  // The report goes to stderr when the backup itself goes to stdout.
  const out = (s: string): boolean => (toStdout ? process.stderr : process.stdout).write(s + '\n');
  const certs = Object.keys(doc.certs);
  out(`backed up ${config.data_dir} to ${target} (it holds the CA key and password hashes${toStdout ? '' : '; mode 0600'}: keep it safe):`);
  out(`  ${Object.keys(doc.store.dev).length} devices, ${Object.keys(doc.store.key).length} API keys (hashes only), ${Object.keys(doc.store.st).length} device configs, ${Object.keys(doc.store.retained).length} retained messages`);
  out(`  certificates: ${certs.length > 0 ? certs.join(', ') : 'none in data_dir/certs'}`);
  if (config.tls.cert_file) out(`  note: tls.cert_file is set; the configured certificate files (${config.tls.cert_file}, …) are not in the backup`);
  out('  not included: usage history, the uplink outbox, MQTT subscriptions and queued messages, admin.key');
}

/** Written beside the target and renamed: an interrupted backup never leaves half a file under its name. */
async function writePrivateFile(target: string, bytes: Buffer): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, bytes, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** `ways-edge restore FILE|- [--force]`: into an empty data directory, or over one with --force. */
export async function restoreCommand(config: GatewayConfig, file: string | undefined, force: boolean): Promise<void> {
  if (!file) throw new GatewayError('bad_request', 'usage: ways-edge restore FILE|- [--force] [--config FILE]');
  const out = (s: string): boolean => process.stdout.write(s + '\n');
  const bytes = file === '-' ? await readAll(process.stdin) : await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new GatewayError('bad_request', `cannot read ${file}: ${err.code ?? err.message}`, { cause: err });
  });
  const doc = decodeBackup(bytes, file);
  const r = await restoreSnapshot(config, doc, { force });
  out(`restored ${file} (made ${doc.created_at} by ${doc.gateway.name}, release ${doc.gateway.release}) into ${config.data_dir}:`);
  out(`  ${r.devices} devices (their MQTT passwords work as before), ${r.keys} API keys, ${r.configs} device configs, ${r.retained} retained messages`);
  out(`  certificates: ${r.certs.length > 0 ? r.certs.join(', ') : 'none'}${r.caFingerprint ? `; CA SHA-256 ${r.caFingerprint} (clients keep trusting it)` : ''}`);
  for (const moved of r.setAside) out(`  the replaced ${path.basename(moved).split('.')[0]}/ was moved to ${moved}; remove it once the restored gateway runs well`);
  if (r.adminKey === 'removed') out('  removed admin.key: it was not one of the restored keys');
  if (r.adminKey !== 'kept') {
    out('  admin.key is not in a backup (only hashes of keys are stored): use the admin key you kept, or make a new one');
    out('  while the gateway is stopped: ways-edge keys create NAME --scopes admin');
  }
  out('  not restored: usage history, the uplink outbox, MQTT subscriptions and queued messages');
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
