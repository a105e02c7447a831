import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { TlsMaterial } from './tls-material.js';

/**
 * Mozilla "intermediate" TLS 1.2 ciphers (ssl-config.mozilla.org, v5.7), set explicitly; TLS 1.3
 * suites are Node's defaults (all three are in the intermediate profile). TLS 1.0/1.1 are refused.
 */
export const INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
].join(':');

export function serverTlsOptions(material: TlsMaterial): TlsOptions & SecureContextOptions {
  return {
    cert: material.certPem,
    key: material.keyPem,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: INTERMEDIATE_CIPHERS,
    honorCipherOrder: false,
    ecdhCurve: 'X25519:prime256v1:secp384r1',
  };
}
