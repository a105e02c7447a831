import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { createCa, createServerCert, type ServerNames } from './generate.js';

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  /** The CA clients must trust (GET /credentials hands it out). */
  caPem: string;
  /** When the server certificate expires. */
  notAfter: Date;
  certFile: string;
  caFile: string;
}

/** The names a LAN client may use to reach this gateway. */
export function serverNames(extra: readonly string[] = []): ServerNames {
  const host = os.hostname();
  const dns = new Set<string>([host, `${host}.local`, 'localhost']);
  const ips = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(os.networkInterfaces())) {
    for (const addr of list ?? []) {
      // Link-local IPv6 needs a zone id that no certificate can carry.
      if (addr.family === 'IPv6' && addr.address.startsWith('fe80')) continue;
      ips.add(addr.address);
    }
  }
  for (const name of extra) (/^[\d.]+$|:/.test(name) ? ips : dns).add(name);
  return { dns: [...dns], ips: [...ips] };
}

/**
 * Loads the configured certificate, or on first start makes a local CA and a server certificate in
 * `<data_dir>/certs` (CA key 0600) and reuses them afterwards.
 */
export async function loadOrCreateTls(config: GatewayConfig, log: Logger): Promise<TlsMaterial> {
  if (config.tls.cert_file) {
    const certPem = await readFile(config.tls.cert_file, 'utf8');
    const keyPem = await readFile(config.tls.key_file, 'utf8');
    const caFile = config.tls.ca_file || config.tls.cert_file;
    const caPem = await readFile(caFile, 'utf8');
    return { certPem, keyPem, caPem, notAfter: new Date(new X509Certificate(certPem).validTo), certFile: config.tls.cert_file, caFile };
  }
  const dir = path.join(config.data_dir, 'certs');
  const files = {
    caCert: path.join(dir, 'ca.crt'), caKey: path.join(dir, 'ca.key'),
    cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key'),
  };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(files.caCert) || !existsSync(files.caKey)) {
    const ca = await createCa(`ways-edge ${config.gateway.name} local CA`);
    await writeFile(files.caKey, ca.keyPem, { mode: 0o600 });
    await chmod(files.caKey, 0o600);
    await writeFile(files.caCert, ca.certPem, { mode: 0o644 });
    log.info({ event: 'ca_created', file: files.caCert }, 'created a local CA');
  }
  const caPem = await readFile(files.caCert, 'utf8');
  if (!existsSync(files.cert) || !existsSync(files.key)) {
    const caKeyPem = await readFile(files.caKey, 'utf8');
    const names = serverNames(config.tls.extra_names);
    const server = await createServerCert({ certPem: caPem, keyPem: caKeyPem }, names);
    await writeFile(files.key, server.keyPem, { mode: 0o600 });
    await writeFile(files.cert, server.certPem, { mode: 0o644 });
    log.info({ event: 'server_cert_created', names }, 'created the server certificate');
  }
  const certPem = await readFile(files.cert, 'utf8');
  const keyPem = await readFile(files.key, 'utf8');
  return { certPem, keyPem, caPem, notAfter: new Date(new X509Certificate(certPem).validTo), certFile: files.cert, caFile: files.caCert };
}
