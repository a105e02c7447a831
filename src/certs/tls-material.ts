import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { createCa, createServerCert, type ServerNames } from './generate.js';
import { serverTlsOptions } from './tls-options.js';
import { DISCOVERY_ROLES, discoveryHostname } from '../discovery/records.js';
import { GatewayError } from '../errors.js';

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  /** The CA clients must trust (GET /credentials hands it out). */
  caPem: string;
  /** When the server certificate expires. */
  notAfter: Date;
  /** Where each PEM was read from (SIGHUP re-reads them; errors name them). */
  certFile: string;
  keyFile: string;
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
    return { certPem, keyPem, caPem, notAfter: notAfterOf(certPem, config.tls.cert_file), certFile: config.tls.cert_file, keyFile: config.tls.key_file, caFile };
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
    // The mDNS host names too, so that a client may connect to the SRV target of a discovered service.
    const mdnsNames = DISCOVERY_ROLES.map((role) => `${discoveryHostname(config.gateway.name, role)}.local`);
    const names = serverNames([...config.tls.extra_names, ...mdnsNames]);
    const server = await createServerCert({ certPem: caPem, keyPem: caKeyPem }, names);
    await writeFile(files.key, server.keyPem, { mode: 0o600 });
    await writeFile(files.cert, server.certPem, { mode: 0o644 });
    log.info({ event: 'server_cert_created', names }, 'created the server certificate');
  }
  const certPem = await readFile(files.cert, 'utf8');
  const keyPem = await readFile(files.key, 'utf8');
  return { certPem, keyPem, caPem, notAfter: notAfterOf(certPem, files.cert), certFile: files.cert, keyFile: files.key, caFile: files.caCert };
}

function notAfterOf(certPem: string, file: string): Date {
  try {
    return new Date(new X509Certificate(certPem).validTo);
  } catch (err) {
    throw new GatewayError('bad_request', `${file}: not a PEM certificate (${(err as Error).message})`, { cause: err });
  }
}

/**
 * Checks material before it replaces the certificate in use (SIGHUP): each PEM parses, the key belongs
 * to the certificate, the certificate has not expired, and Node accepts the whole as a TLS context with
 * the gateway's options. Throws a GatewayError that names the file at fault.
 */
export function checkTlsMaterial(material: TlsMaterial, now = new Date()): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(material.certPem);
  } catch (err) {
    throw new GatewayError('bad_request', `${material.certFile}: not a PEM certificate (${(err as Error).message})`, { cause: err });
  }
  try {
    if (!cert.checkPrivateKey(createPrivateKey(material.keyPem))) throw new Error('the key does not belong to the certificate');
  } catch (err) {
    throw new GatewayError('bad_request', `${material.keyFile}: ${(err as Error).message}`, { cause: err });
  }
  try {
    new X509Certificate(material.caPem);
  } catch (err) {
    throw new GatewayError('bad_request', `${material.caFile}: not a PEM certificate (${(err as Error).message})`, { cause: err });
  }
  if (new Date(cert.validTo) <= now) throw new GatewayError('bad_request', `${material.certFile}: the certificate expired on ${cert.validTo}`);
  try {
    tls.createSecureContext(serverTlsOptions(material));
  } catch (err) {
    throw new GatewayError('bad_request', `${material.certFile}: refused by TLS (${(err as Error).message})`, { cause: err });
  }
}
