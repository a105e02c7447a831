import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniform random string over `alphabet` (rejection sampling, no modulo bias). */
export function randomString(length: number, alphabet = BASE62): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Device password hashes. The gateway generates every device password (32 base62 characters, about
 * 190 bits of randomness), so a guesser holding a hash faces 2^190 candidates whatever the hash
 * costs: a slow, memory-hard hash buys nothing and made each MQTT login cost ~45 ms of a core (a
 * reconnect storm of 5,000 devices took minutes). The hash is salted SHA-256, as cheap as the API
 * keys' (api-keys.ts), stored as `sha256$<salt, base64>$<SHA-256(salt ‖ password), base64>`; the
 * first field names the format, so it can change again without breaking stored hashes.
 *
 * Stores made by earlier versions hold `scrypt$N$r$p$salt$hash` (N=2^14, r=8, p=1): those still
 * verify, and needsRehash() tells the registry to replace them after a successful login.
 */
const FAST_SCHEME = 'sha256';
const SALT_BYTES = 16;

function saltedSha256(salt: Buffer, password: string): Buffer {
  return createHash('sha256').update(salt).update(password, 'utf8').digest();
}

export function hashPassword(password: string): string {
  const salt = randomBytes(SALT_BYTES);
  return `${FAST_SCHEME}$${salt.toString('base64')}$${saltedSha256(salt, password).toString('base64')}`;
}

/** True when `stored` is in an older format than hashPassword() writes (verify it, then replace it). */
export function needsRehash(stored: string): boolean {
  return !stored.startsWith(`${FAST_SCHEME}$`);
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts[0] === FAST_SCHEME) {
    if (parts.length !== 3) return false;
    const expected = Buffer.from(parts[2] ?? '', 'base64');
    if (expected.length !== 32) return false;
    return timingSafeEqual(saltedSha256(Buffer.from(parts[1] ?? '', 'base64'), password), expected);
  }
  if (parts[0] === 'scrypt') return verifyScrypt(password, parts);
  return false;
}

/** Legacy format: scrypt with its parameters stored in the hash (16 MiB and tens of ms per check). */
async function verifyScrypt(password: string, parts: string[]): Promise<boolean> {
  if (parts.length !== 6) return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  if (!Number.isInteger(N) || !Number.isInteger(r) || !Number.isInteger(p) || expected.length === 0) return false;
  // Node refuses more than 32 MiB by default; allow what the parameters need plus headroom.
  const maxmem = 256 * N * r + 1024 * 1024;
  const key = await new Promise<Buffer>((resolve, reject) => {
    scryptCb(password, salt, expected.length, { N, r, p, maxmem }, (err, k) => (err ? reject(err) : resolve(k)));
  });
  return timingSafeEqual(key, expected);
}
