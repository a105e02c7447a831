import { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;

type X509 = typeof import('@peculiar/x509');
let loaded: X509 | undefined;

/**
 * @peculiar/x509 (and the DI container it needs reflect-metadata for) is loaded only when a
 * certificate is made — on first start — so that ordinary starts stay fast.
 */
async function x509Lib(): Promise<X509> {
  if (!loaded) {
    await import('reflect-metadata');
    loaded = await import('@peculiar/x509');
    // Node's WebCrypto is complete for ECDSA P-256.
    loaded.cryptoProvider.set(webcrypto as unknown as Parameters<X509['cryptoProvider']['set']>[0]);
  }
  return loaded;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface PemPair { certPem: string; keyPem: string }

/** Names the server certificate must cover: DNS names and IP addresses. */
export interface ServerNames { dns: string[]; ips: string[] }

function randomSerial(): string {
  // Positive 16-byte serial: clear the top bit.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

async function keyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END PRIVATE KEY-----\n`;
}

async function pemToKey(pem: string): Promise<CryptoKey> {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), EC, true, ['sign']);
}

/** A local CA (ECDSA P-256, 10 years) that signs the gateway's server certificate. */
export async function createCa(commonName: string, now = new Date()): Promise<PemPair> {
  const x509 = await x509Lib();
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${commonName}, O=ways-edge`,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 3650 * DAY_MS),
    signingAlgorithm: SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyToPem(keys.privateKey) };
}

/** A server certificate (ECDSA P-256, 825 days, the most clients accept) signed by the local CA. */
export async function createServerCert(ca: PemPair, names: ServerNames, now = new Date()): Promise<PemPair> {
  const x509 = await x509Lib();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await pemToKey(ca.keyPem);
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const san = [
    ...names.dns.map((value) => ({ type: 'dns' as const, value })),
    ...names.ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${names.dns[0] ?? 'localhost'}`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 825 * DAY_MS),
    signingAlgorithm: SIGNING,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(san),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyToPem(keys.privateKey) };
}
