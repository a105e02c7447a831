import { randomBytes, scryptSync } from 'node:crypto';

/**
 * A device password hash as versions before the salted SHA-256 format stored it:
 * `scrypt$N$r$p$<salt b64>$<key b64>` with N=2^14, r=8, p=1 (16 MiB, tens of ms per hash).
 */
export function legacyScryptHash(password: string): string {
  const [N, r, p] = [16384, 8, 1];
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}
