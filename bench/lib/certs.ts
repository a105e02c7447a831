/**
 * One CA and one server certificate (ECDSA P-256, names localhost and 127.0.0.1), made with the
 * gateway's own generator, used by both brokers: the gateway through tls.cert_file/key_file/ca_file,
 * mosquitto through certfile/keyfile/cafile. Same key type and size means the same TLS work.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCa, createServerCert } from '../../src/certs/generate.js';

export interface CertFiles { caFile: string; certFile: string; keyFile: string; caPem: string }

export async function makeCerts(dir: string): Promise<CertFiles> {
  const ca = await createCa('ways-edge bench CA');
  const server = await createServerCert(ca, { dns: ['localhost'], ips: ['127.0.0.1'] });
  const files = { caFile: path.join(dir, 'ca.crt'), certFile: path.join(dir, 'server.crt'), keyFile: path.join(dir, 'server.key') };
  writeFileSync(files.caFile, ca.certPem);
  writeFileSync(files.certFile, server.certPem);
  writeFileSync(files.keyFile, server.keyPem, { mode: 0o600 });
  return { ...files, caPem: ca.certPem };
}
