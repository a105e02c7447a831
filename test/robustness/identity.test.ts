import t from 'tap';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { registerDevice } from '../helpers/devices.js';
import { connackCode, rawDevice, spawnUnderTest, usageOf } from './helpers/gateway-under-test.js';
import { deviceClientOptions } from './helpers/heartbeat.js';

/** A CONNECT with any identity (strings as given, the password as bytes). */
function connectPacket(clientId: string, username: string | undefined, password: string | undefined, extra: Partial<mqttPacket.IConnectPacket> = {}): Buffer {
  return mqttPacket.generate({
    cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId,
    ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password: Buffer.from(password) } : {}), ...extra,
  });
}

/** A PUBLISH with raw topic bytes (any bytes, valid UTF-8 or not). */
function rawPublish(topic: Buffer, payload: Buffer, qos: 0 | 1 = 1): Buffer {
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, qos > 0 ? Buffer.from([0, 1]) : Buffer.alloc(0), payload]);
  const length: number[] = [];
  let n = body.length;
  do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; length.push(b); } while (n > 0);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1), ...length]), body]);
}

const WEIRD = ['+', '#', '/', 'a/b', '\u0000', 'x\u0000y', '__proto__', 'constructor', 'hasOwnProperty', '', ' ', 'iot_dev_', 'app:', 'x'.repeat(65_000)];

t.test('identity abuse: no takeover, no odd identity or topic gets in, no ACL decision is ever widened', async (t) => {
  const g = await spawnUnderTest(t, { WAYS_EDGE_MQTT_RATE_LIMIT: '0' });
  const { api, target } = g;
  const victim = await registerDevice(api, 'victim');
  const attacker = await registerDevice(api, 'attacker');
  const key = (await api.post<{ key: string }>('/v1/iot/keys', { name: 'watch', scopes: ['mqtt'] })).body.key;

  // Everything the victim is entitled to, watched from the start: nothing may show up here but its own.
  const watcher = await mqtt.connectAsync({ host: '127.0.0.1', port: target.port, protocol: 'mqtts', ca: target.caPem, servername: 'localhost', reconnectPeriod: 0, username: 'app:watch', password: key, clientId: 'watcher' });
  t.teardown(() => watcher.endAsync(true));
  const seen: Array<{ topic: string; payload: string }> = [];
  watcher.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  await watcher.subscribeAsync(['devices/+/telemetry', 'devices/+/events', 'devices/+/status'], { qos: 1 });
  const victimClient = await mqtt.connectAsync(deviceClientOptions(target, victim));
  t.teardown(() => victimClient.endAsync(true));
  const victimGot: string[] = [];
  victimClient.on('message', (topic) => victimGot.push(topic));
  await victimClient.subscribeAsync(`devices/${victim.device_id}/commands`, { qos: 1 });
  let victimClosed = false;
  victimClient.on('close', () => { victimClosed = true; });

  await t.test('client-id takeover: refused with a wrong password, and with the attacker\'s own credentials', async (t) => {
    const v = victim.device_id;
    t.equal(await connackCode(target, connectPacket(v, v, 'not-the-password')), 4, 'victim id, wrong password → 4 (bad username or password)');
    t.equal(await connackCode(target, connectPacket(v, attacker.device_id, attacker.mqtt_credentials.password)), 5, 'the attacker\'s valid credentials with the victim\'s client id → 5 (not authorized)');
    t.equal(await connackCode(target, connectPacket(v, 'app:watch', key)), 5, 'an application with a device\'s client id → 5');
    t.equal(await connackCode(target, connectPacket(attacker.device_id, v, attacker.mqtt_credentials.password)), 5, 'the victim\'s id as username with the attacker\'s password and client id → 5');
    t.notOk(victimClosed, 'the victim\'s connection was never taken over');
    await victimClient.publishAsync(`devices/${v}/telemetry`, '{"still":"here"}', { qos: 1 });
    t.pass('and it still publishes');
  });

  await t.test('odd usernames and client ids (+, #, /, NUL, __proto__, empty, 64 KB) are refused like any unknown identity', async (t) => {
    // Each refusal from its own loopback address: the failure throttle would otherwise answer ever later.
    let host = 10;
    const from = (): string => `127.0.${Math.floor(host / 250)}.${(host++ % 250) + 2}`;
    for (const odd of WEIRD) {
      const label = JSON.stringify(odd.length > 20 ? `${odd.slice(0, 8)}…(${odd.length})` : odd);
      const asUser = await connackCode(target, connectPacket(odd, odd, 'whatever'), from());
      t.ok([2, 4, 5, -1].includes(asUser), `username ${label}: refused (${asUser})`);
      const asApp = await connackCode(target, connectPacket('app-client', `app:${odd}`, key), from());
      t.ok([4, 5, -1].includes(asApp), `application name ${label} with a valid key of another name: refused (${asApp})`);
      const asClient = await connackCode(target, connectPacket(odd, attacker.device_id, attacker.mqtt_credentials.password), from());
      t.ok([2, 5, -1].includes(asClient), `client id ${label} with valid device credentials: refused (${asClient})`);
    }
    t.equal(await connackCode(target, connectPacket('app-ok', 'app:watch', key)), 0, 'while a valid application still gets in');
    t.equal(g.gw.child.exitCode, null, 'the gateway is running');
  });

  await t.test('odd topics: refused (the connection closes), never routed, never widened', async (t) => {
    const own = `devices/${attacker.device_id}`;
    const names = [
      `devices/${victim.device_id}/telemetry`, `${own}/telemetry/extra`, `${own}/+`, `${own}/#`, `${own}/telemetry\u0000`, `${own}/__proto__`,
      `${own}/constructor`, `devices/__proto__/telemetry`, '$SYS/broker', `${own}/Telemetry`, `/${own}/telemetry`, `${own}//telemetry`, `${own}/${'x'.repeat(60_000)}`,
    ].map((s) => Buffer.from(s));
    // Not well-formed UTF-8, and a surrogate: the topic of a PUBLISH must be valid UTF-8 [MQTT-1.5.3-1].
    names.push(Buffer.concat([Buffer.from(`${own}/tele`), Buffer.from([0xff, 0xfe])]), Buffer.concat([Buffer.from(`${own}/`), Buffer.from([0xed, 0xa0, 0x80])]));
    for (const topic of names) {
      const conn = await rawDevice(target, attacker);
      conn.send(rawPublish(topic, Buffer.from('{"attack":true}')));
      const closed = await conn.closedWithin(2_000);
      const label = JSON.stringify(topic.toString('latin1').slice(0, 60));
      t.ok(closed && conn.pending().length === 0, `PUBLISH to ${label}: closed, no PUBACK`);
      conn.destroy();
    }
    const filters = [`devices/${victim.device_id}/commands`, 'devices/+/commands', '#', `devices/${attacker.device_id}/#`, '$SYS/#', '+/+/+', `devices/${attacker.device_id}/commands/+`, '__proto__'];
    const conn = await rawDevice(target, attacker);
    conn.send(mqttPacket.generate({ cmd: 'subscribe', messageId: 5, subscriptions: filters.map((topic) => ({ topic, qos: 1 as const })) }));
    const { bytes } = await conn.read(4 + filters.length, 5_000);
    t.same([...bytes.subarray(4)], filters.map(() => 0x80), 'every foreign or wildcard filter refused with 0x80');
    conn.destroy();
    const usage = await usageOf(api, attacker.device_id);
    t.equal(usage.messages_in, 0, 'nothing the attacker sent was accepted');
    // aedes refuses `+` and `#` in a PUBLISH topic itself, before the ACL: those two are not metered.
    t.ok(usage.rejected >= names.length - 2, `the refusals are counted as rejected (${usage.rejected})`);
  });

  await t.test('what the watcher and the victim saw: only the victim\'s own message', async (t) => {
    // A last message from the victim marks the end: whatever was routed before it has arrived.
    const marker = new Promise<void>((resolve) => watcher.on('message', (_topic, p) => { if (p.toString() === '{"end":true}') resolve(); }));
    await victimClient.publishAsync(`devices/${victim.device_id}/telemetry`, '{"end":true}', { qos: 1 });
    await marker;
    t.same(seen.map((m) => m.topic), [`devices/${victim.device_id}/telemetry`, `devices/${victim.device_id}/telemetry`], 'the watcher saw the victim\'s two messages and nothing else');
    t.same(victimGot, [], 'the victim received nothing');
  });
});
