import t from 'tap';
import { hashPassword, needsRehash, randomString, verifyPassword } from '../../src/auth/secrets.js';
import { legacyScryptHash } from './legacy-hash.js';

t.test('device password hashes: salted SHA-256, versioned, fast', async (t) => {
  const password = randomString(32);
  const hash = hashPassword(password);
  t.match(hash, /^sha256\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/, 'sha256$<16-byte salt>$<32-byte digest>, base64');
  t.not(hashPassword(password), hash, 'salted: the same password hashes differently each time');
  t.equal(await verifyPassword(password, hash), true);
  t.equal(await verifyPassword(password.slice(0, -1), hash), false, 'a shorter password');
  t.equal(await verifyPassword(`${password}x`, hash), false, 'a longer password');
  t.equal(await verifyPassword('', hash), false, 'an empty password');
  t.equal(needsRehash(hash), false);

  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) await verifyPassword(password, hash);
  const perCheckMs = (performance.now() - t0) / 1000;
  t.ok(perCheckMs < 1, `a check takes well under a millisecond (${perCheckMs.toFixed(4)} ms)`);
});

t.test('hashes of earlier versions (scrypt) still verify and ask to be replaced', async (t) => {
  const password = randomString(32);
  const legacy = legacyScryptHash(password);
  t.equal(await verifyPassword(password, legacy), true);
  t.equal(await verifyPassword(`${password}x`, legacy), false);
  t.equal(needsRehash(legacy), true);
});

t.test('malformed or unknown stored hashes never verify', async (t) => {
  const password = 'p';
  const good = hashPassword(password);
  const [, salt, digest] = good.split('$') as [string, string, string];
  for (const stored of ['', 'p', 'sha256$', `sha256$${salt}`, `sha256$${salt}$`, `sha256$${salt}$${digest}$x`, `sha256$${salt}$${digest.slice(0, 20)}`,
    `SHA256$${salt}$${digest}`, `md5$${salt}$${digest}`, 'scrypt$1$1$1$a$b'.replace(/\$b$/, '$'), 'scrypt$x$8$1$c2FsdA==$a2V5']) {
    t.equal(await verifyPassword(password, stored), false, JSON.stringify(stored));
  }
});
