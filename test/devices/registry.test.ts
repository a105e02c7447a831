import t from 'tap';
import type { Test } from 'tap';
import { Store } from '../../src/store/store.js';
import { DeviceRegistry } from '../../src/devices/registry.js';
import type { DeviceRecord } from '../../src/devices/device.js';
import { tempDir, removeDir } from '../helpers/gateway.js';
import { legacyScryptHash } from '../auth/legacy-hash.js';

/** A started registry on a fresh store, torn down with the test; `reopen` restarts both on the same files. */
async function withRegistry(t: Test): Promise<{ registry: DeviceRegistry; store: Store; reopen(): Promise<DeviceRegistry> }> {
  const dir = tempDir();
  let store = new Store(dir);
  await store.start();
  let registry = new DeviceRegistry({ store, maxDevices: 100 });
  await registry.start();
  t.teardown(async () => { await registry.stop(); await store.stop(); removeDir(dir); });
  return {
    get registry() { return registry; },
    get store() { return store; },
    async reopen() {
      await registry.stop();
      await store.stop();
      store = new Store(dir);
      await store.start();
      registry = new DeviceRegistry({ store, maxDevices: 100 });
      await registry.start();
      return registry;
    },
  };
}

/** Registers a device, then puts a scrypt hash of its password in the store (a store of an earlier version) and reopens. */
async function legacyDevice(t: Test): Promise<{ ctx: Awaited<ReturnType<typeof withRegistry>>; registry: DeviceRegistry; id: string; password: string; legacy: string }> {
  const ctx = await withRegistry(t);
  const { device, credentials } = await ctx.registry.create({ name: 'old sensor', type: 'sensor' });
  const legacy = legacyScryptHash(credentials.password);
  await ctx.store.json<DeviceRecord>('devices').put(device.device_id, { ...device, password_hash: legacy });
  const registry = await ctx.reopen();
  t.equal(registry.get(device.device_id)?.password_hash, legacy, 'the store holds a scrypt hash');
  return { ctx, registry, id: device.device_id, password: credentials.password, legacy };
}

const storedHash = async (ctx: { store: Store }, id: string): Promise<string | undefined> => (await ctx.store.json<DeviceRecord>('devices').get(id))?.password_hash;

t.test('a new device\'s password is stored as salted SHA-256 and checks', async (t) => {
  const ctx = await withRegistry(t);
  const { device, credentials } = await ctx.registry.create({ name: 'n', type: 'sensor' });
  t.match(device.password_hash, /^sha256\$/);
  t.match(await storedHash(ctx, device.device_id), /^sha256\$/);
  const ok = await ctx.registry.checkPassword(device.device_id, credentials.password);
  t.same(ok.ok && ok.device.password_hash, device.password_hash, 'accepted, hash unchanged');
  t.same(await ctx.registry.checkPassword(device.device_id, `${credentials.password.slice(0, -1)}?`), { ok: false, reason: 'bad_password' });
  const rotated = await ctx.registry.rotate(device.device_id);
  t.match(ctx.registry.get(device.device_id)?.password_hash, /^sha256\$/, 'a rotated password too');
  t.same(await ctx.registry.checkPassword(device.device_id, credentials.password), { ok: false, reason: 'bad_password' }, 'the old password is refused');
  t.equal((await ctx.registry.checkPassword(device.device_id, rotated.password)).ok, true);
});

t.test('a scrypt hash of an earlier version checks, and is replaced (in memory and in the store) by the new format', async (t) => {
  const { ctx, registry, id, password, legacy } = await legacyDevice(t);
  t.same(await registry.checkPassword(id, `${password}x`), { ok: false, reason: 'bad_password' }, 'a wrong password is refused');
  t.equal(registry.get(id)?.password_hash, legacy, '... and upgrades nothing');
  const before = registry.get(id) as DeviceRecord;
  const result = await registry.checkPassword(id, password);
  t.ok(result.ok, 'the right password is accepted');
  const upgraded = registry.get(id) as DeviceRecord;
  t.match(upgraded.password_hash, /^sha256\$/, 'upgraded');
  t.equal(result.ok && result.device.password_hash, upgraded.password_hash, 'the login carries the current hash (the session check compares it)');
  t.same({ ...upgraded, password_hash: '' }, { ...before, password_hash: '' }, 'nothing else changed (not even updated_at)');
  t.equal(await storedHash(ctx, id), upgraded.password_hash, 'written to the store');
  const again = await registry.checkPassword(id, password);
  t.equal(again.ok && again.device.password_hash, upgraded.password_hash, 'the next login keeps the new hash');
  const reopened = await ctx.reopen();
  t.equal((await reopened.checkPassword(id, password)).ok, true, 'and it checks after a restart');
});

t.test('logins of one scrypt device at once: all accepted, one upgrade, all see the same hash', async (t) => {
  const { ctx, registry, id, password } = await legacyDevice(t);
  const results = await Promise.all([0, 1, 2, 3].map(() => registry.checkPassword(id, password)));
  const current = registry.get(id)?.password_hash;
  t.match(current, /^sha256\$/);
  t.same(results.map((r) => r.ok && r.device.password_hash), [current, current, current, current]);
  t.equal(await storedHash(ctx, id), current);
});

t.test('a rotation or a disable during a scrypt check wins over the upgrade', async (t) => {
  await t.test('rotation', async (t) => {
    const { ctx, registry, id, password } = await legacyDevice(t);
    const check = registry.checkPassword(id, password);
    const rotated = await registry.rotate(id);
    t.same(await check, { ok: false, reason: 'bad_password' }, 'the old password is refused');
    const hash = registry.get(id)?.password_hash;
    t.equal(await storedHash(ctx, id), hash, 'the rotated hash stays in the store');
    t.equal((await registry.checkPassword(id, rotated.password)).ok, true, 'the new password checks');
    t.equal((await registry.checkPassword(id, password)).ok, false);
  });
  await t.test('disable', async (t) => {
    const { ctx, registry, id, password, legacy } = await legacyDevice(t);
    const check = registry.checkPassword(id, password);
    await registry.update(id, { status: 'disabled' });
    t.same(await check, { ok: false, reason: 'disabled' });
    t.equal(await storedHash(ctx, id), legacy, 'no upgrade of a disabled device');
  });
  await t.test('deletion', async (t) => {
    const { ctx, registry, id, password } = await legacyDevice(t);
    const check = registry.checkPassword(id, password);
    await registry.remove(id);
    t.same(await check, { ok: false, reason: 'bad_password' });
    t.equal(await storedHash(ctx, id), undefined, 'not written back');
  });
});

t.test('writes of one device run one after the other: a PATCH and an upgrade at once both stay', async (t) => {
  const { ctx, registry, id, password } = await legacyDevice(t);
  const checks = [registry.checkPassword(id, password), registry.checkPassword(id, password)];
  const patched = registry.update(id, { name: 'renamed' });
  const results = await Promise.all(checks);
  await patched;
  const now = registry.get(id) as DeviceRecord;
  t.same(results.map((r) => r.ok), [true, true]);
  t.equal(now.name, 'renamed');
  t.match(now.password_hash, /^sha256\$/);
  const stored = await ctx.store.json<DeviceRecord>('devices').get(id);
  t.same(stored, now, 'the store holds both changes');
});

t.test('a rotation and a PATCH at once: the rotation is not undone', async (t) => {
  const ctx = await withRegistry(t);
  const { device } = await ctx.registry.create({ name: 'n', type: 'sensor' });
  const [rotated] = await Promise.all([ctx.registry.rotate(device.device_id), ctx.registry.update(device.device_id, { description: 'x' })]);
  const now = ctx.registry.get(device.device_id) as DeviceRecord;
  t.equal(now.description, 'x');
  t.equal((await ctx.registry.checkPassword(device.device_id, rotated.password)).ok, true, 'the rotated password checks');
  t.same(await ctx.store.json<DeviceRecord>('devices').get(device.device_id), now);
});
