import t from 'tap';
import { FailureThrottle } from '../../src/broker/failure-throttle.js';
import { AuthQueue } from '../../src/broker/auth-queue.js';
import { CONNACK_CODE } from '../../src/broker/connack.js';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { withLastCharChanged } from '../helpers/tamper.js';
import { connackOf, connectApp, createKey, deviceOptions, subscribeCodes, tlsOptions } from './mqtt-helpers.js';

const BAD_USER_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;
const IDENTIFIER_REJECTED = 2;

t.test('CONNACK codes: bad credentials 4, not authorized 5, keepalive over the cap 2', async (t) => {
  const { gw, api } = await withGateway(t);
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const device = await registerDevice(api);
  const other = await registerDevice(api);
  const disabled = await registerDevice(api);
  await api.patch(`/v1/iot/devices/${disabled.device_id}`, { status: 'disabled' });
  const deleted = await registerDevice(api);
  await api.delete(`/v1/iot/devices/${deleted.device_id}`);
  const id = device.device_id;

  const cases: Array<[string, Parameters<typeof deviceOptions>[2], number, typeof device?]> = [
    ['the right credentials', {}, 0],
    ['a wrong password', { password: 'x'.repeat(32) }, BAD_USER_OR_PASSWORD],
    ['another device\'s password', { password: other.mqtt_credentials.password }, BAD_USER_OR_PASSWORD],
    ['an unknown device id', { username: 'iot_dev_zzzzzzzzzzzz', clientId: 'iot_dev_zzzzzzzzzzzz' }, BAD_USER_OR_PASSWORD],
    ['no username', { username: undefined, password: undefined }, BAD_USER_OR_PASSWORD],
    ['a client id other than the device id', { clientId: withLastCharChanged(id) }, NOT_AUTHORIZED],
    ['another device\'s client id', { clientId: other.device_id }, NOT_AUTHORIZED],
    ['a will on another device\'s topic', { will: { topic: `devices/${other.device_id}/status`, payload: Buffer.from('offline'), qos: 1, retain: false } }, NOT_AUTHORIZED],
    ['a will on its own command topic', { will: { topic: `devices/${id}/commands`, payload: Buffer.from('x'), qos: 0, retain: false } }, NOT_AUTHORIZED],
    ['a will on $SYS', { will: { topic: '$SYS/broker/x', payload: Buffer.from('x'), qos: 0, retain: false } }, NOT_AUTHORIZED],
    ['a will on its own status topic', { will: { topic: `devices/${id}/status`, payload: Buffer.from('offline'), qos: 1, retain: true } }, 0],
    ['keepalive 0 (never), over the 1200 s cap', { keepalive: 0 }, IDENTIFIER_REJECTED],
    ['keepalive 1201 s', { keepalive: 1201 }, IDENTIFIER_REJECTED],
    ['keepalive 1200 s', { keepalive: 1200 }, 0],
    ['a disabled device', {}, NOT_AUTHORIZED, disabled],
    ['a deleted device', {}, BAD_USER_OR_PASSWORD, deleted],
  ];
  for (const [what, extra, expected, who] of cases) {
    const { code } = await connackOf(deviceOptions(target, who ?? device, extra));
    t.equal(code, expected, `${what} → CONNACK ${expected}`);
  }
});

t.test('applications: app:<key name> with an mqtt (or admin) key; no mqtt scope, a wrong key or a device client id is refused', async (t) => {
  const { gw, api } = await withGateway(t);
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const device = await registerDevice(api);
  const bms = await createKey(api, 'bms', ['mqtt']);
  const reader = await createKey(api, 'reader', ['read']);
  const app = (name: string, password: string, clientId = `${name}-client`) => tlsOptions(target, { username: `app:${name}`, password, clientId });

  t.equal((await connackOf(app('bms', bms))).code, 0, 'mqtt scope → accepted');
  t.equal((await connackOf(app('admin', gw.adminKey))).code, 0, 'admin scope → accepted');
  t.equal((await connackOf(tlsOptions(target, { username: 'app:bms', password: bms, clientId: '', clean: true }))).code, 0, 'an empty client id (clean session) is fine for an app');
  t.equal((await connackOf(app('reader', reader))).code, NOT_AUTHORIZED, 'read scope only → not authorized');
  t.equal((await connackOf(app('bms', reader))).code, BAD_USER_OR_PASSWORD, 'another key\'s secret → bad username or password');
  t.equal((await connackOf(app('bms', withLastCharChanged(bms)))).code, BAD_USER_OR_PASSWORD, 'a wrong key → bad username or password');
  t.equal((await connackOf(app('bms', bms, device.device_id))).code, NOT_AUTHORIZED, 'a device id as client id → not authorized (no session takeover)');
  t.equal((await connackOf(tlsOptions(target, { username: 'app:bms', password: bms, clientId: 'bms-w', will: { topic: 'devices/+/telemetry', payload: Buffer.from('x'), qos: 0, retain: false } }))).code,
    NOT_AUTHORIZED, 'a will outside the app ACL → not authorized');

  await api.delete('/v1/iot/keys/bms');
  t.equal((await connackOf(app('bms', bms))).code, BAD_USER_OR_PASSWORD, 'a revoked key no longer connects');

  const client = await connectApp(t, target, 'admin', gw.adminKey);
  t.same(await subscribeCodes(client, ['devices/+/telemetry', `devices/${device.device_id}/status`, '#', 'devices/+/commands']), [1, 1, 128, 128], 'the app ACL applies to subscriptions');
});

t.test('repeated failures are answered ever later, per address and username, while a good device is not slowed', async (t) => {
  const { gw, api } = await withGateway(t);
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const victim = await registerDevice(api);
  const good = await registerDevice(api);
  const times: number[] = [];
  for (let i = 0; i < 8; i++) {
    const { code, ms } = await connackOf(deviceOptions(target, victim, { password: `wrong-${i}` }));
    t.equal(code, BAD_USER_OR_PASSWORD);
    times.push(ms);
  }
  // Three free failures, then 100, 200, 400, 800, 1600 ms.
  t.ok((times[7] as number) >= 1_500, `the 8th failure was answered after ${Math.round(times[7] as number)} ms`);
  t.ok((times[7] as number) > (times[5] as number), 'and later than the 6th');
  const ok = await connackOf(deviceOptions(target, good));
  t.equal(ok.code, 0, 'another device from the same address still connects');
  t.ok(ok.ms < (times[7] as number) / 2, `and is answered without the penalty (${Math.round(ok.ms)} ms)`);
  const right = await connackOf(deviceOptions(target, victim));
  t.equal(right.code, 0, 'the right password still works for the attacked device');
});

t.test('the failure throttle: free failures, doubling, ceiling, forgetting, bounded keys', async (t) => {
  const f = new FailureThrottle({ freeFailures: 2, baseDelayMs: 100, maxDelayMs: 350, forgetAfterMs: 1_000, maxKeys: 3 });
  const at = 1_000_000;
  t.same([1, 2, 3, 4, 5].map((i) => f.failed(['a'], at + i)), [0, 0, 100, 200, 350]);
  t.equal(f.failed(['b', 'a'], at + 6), 350, 'the worse key decides');
  t.equal(f.failures('a', at + 2_000), 0, 'forgotten after a quiet while');
  f.succeeded(['b']);
  t.equal(f.failures('b', at + 7), 0, 'a success clears the key');
  for (const k of ['c', 'd', 'e', 'f']) f.failed([k], at + 10);
  t.equal(f.size, 3, 'at most maxKeys keys');
  t.equal(f.failures('c', at + 11), 0, 'the oldest key went first');
});

t.test('the auth queue: bounded concurrency, a bounded line, cancelled turns skipped', async (t) => {
  const q = new AuthQueue(2, 1);
  let running = 0;
  let peak = 0;
  const releases: Array<() => void> = [];
  const task = () => new Promise<string>((resolve) => { running += 1; peak = Math.max(peak, running); releases.push(() => { running -= 1; resolve('done'); }); });
  const a = q.run(task, () => false);
  const b = q.run(task, () => false);
  const c = q.run(task, () => false);
  await t.rejects(q.run(task, () => false), { code: 'rate_limited' }, 'the line is full');
  t.equal(CONNACK_CODE.rate_limited, 3, '… which a client sees as "server unavailable"');
  await new Promise((r) => setImmediate(r));
  t.equal(peak, 2, 'two at a time');
  releases.shift()?.();
  releases.shift()?.();
  t.same(await Promise.all([a, b]), ['done', 'done']);
  await new Promise((r) => setImmediate(r));
  releases.shift()?.();
  t.equal(await c, 'done', 'the waiting one ran');
  t.equal(await q.run(task, () => true), undefined, 'a cancelled turn does not run');
});
