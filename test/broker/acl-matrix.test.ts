import t from 'tap';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import type { AcceptedMessage } from '../../src/broker/ingest.js';
import { closeOf, collect, connectApp, connectDevice, createKey, nextMessage, subscribeCodes, untilCount } from './mqtt-helpers.js';
import { runTool } from './tools.js';

/**
 * The topic ACL with real clients: every allowed case works, every denied one is refused and leaks
 * nothing. "Leaks nothing" is checked where a leak would show: subscribers that would legitimately
 * see such a message, and an ingest sink that records what would go upstream.
 */
t.test('the ACL with real clients (mqtt.js)', async (t) => {
  const { gw, api } = await withGateway(t);
  const upstream: AcceptedMessage[] = [];
  gw.gateway.ingestSinks.push({ name: 'test-recorder', stage: (m) => { upstream.push(m); return []; } });
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const a = await registerDevice(api);
  const b = await registerDevice(api);
  const A = a.device_id;
  const B = b.device_id;

  const key = await createKey(api, 'bms', ['mqtt']);
  const bms = await connectApp(t, target, 'bms', key);
  t.same(await subscribeCodes(bms, ['devices/+/telemetry', 'devices/+/events', 'devices/+/status']), [1, 1, 1], 'app: devices/+/telemetry|events|status granted');
  const upstreamSeen = collect(bms);

  const devB = await connectDevice(t, target, b);
  t.same(await subscribeCodes(devB, [`devices/${B}/commands`, `devices/${B}/config`, `devices/${B}/firmware`]), [1, 1, 1], 'device: own commands|config|firmware granted');
  const bSeen = collect(devB);

  await t.test('allowed: a device publishes its telemetry, events and status', async (t) => {
    const devA = await connectDevice(t, target, a);
    for (const suffix of ['telemetry', 'events', 'status']) {
      const arrived = nextMessage(bms, `devices/${A}/${suffix}`);
      await devA.publishAsync(`devices/${A}/${suffix}`, `${suffix} of A`, { qos: 1 });
      t.equal((await arrived).payload.toString(), `${suffix} of A`, `${suffix}: acknowledged and routed`);
    }
  });

  await t.test('allowed: an application commands a device; the device receives it', async (t) => {
    const arrived = nextMessage(devB, `devices/${B}/commands`);
    await bms.publishAsync(`devices/${B}/commands`, '{"command":"open"}', { qos: 1 });
    t.equal((await arrived).payload.toString(), '{"command":"open"}');
  });

  await t.test('denied subscriptions get SUBACK 0x80, the allowed ones in the same SUBSCRIBE are granted', async (t) => {
    const devA = await connectDevice(t, target, a);
    const denied = ['#', '+/+/+', 'devices/#', 'devices/+/commands', `devices/${B}/commands`, `devices/${A}/#`, `devices/${A}/+`,
      `devices/${A}/telemetry`, `devices/${A}/commands/x`, '$SYS/#', '$SYS/+/new/clients', 'other'];
    const codes = await subscribeCodes(devA, [`devices/${A}/commands`, ...denied]);
    t.same(codes, [1, ...denied.map(() => 128)], `granted: own commands; refused: ${denied.join(' ')}`);
    t.same(await subscribeCodes(bms, ['#', 'devices/+/commands', `devices/${B}/config`, '$SYS/#', 'devices/+/+']), [128, 128, 128, 128, 128], 'app: no wildcard beyond the device id, no downstream topics');
  });

  await t.test('denied publishes close the connection and are never routed or sent upstream', async (t) => {
    const denied = [`devices/${B}/telemetry`, `devices/${B}/status`, `devices/${B}/commands`, `devices/${A}/commands`, `devices/${A}/config`,
      `devices/${A}/telemetry/extra`, 'devices/telemetry', '$SYS/broker/fake', 'other'];
    const before = upstream.length;
    for (const topic of denied) {
      const devA = await connectDevice(t, target, a);
      const closed = closeOf(devA, 5_000);
      let acked = false;
      devA.publish(topic, `forbidden to ${topic}`, { qos: 1 }, (err) => { if (!err) acked = true; });
      await closed;
      t.notOk(acked, `${topic}: no PUBACK, connection closed`);
    }
    // The app may not publish upstream topics either.
    const bmsDenied = await connectApp(t, target, 'bms', key);
    const closed = closeOf(bmsDenied, 5_000);
    bmsDenied.publish(`devices/${A}/telemetry`, 'forged by an app', { qos: 1 });
    await closed;
    t.pass('an app publishing telemetry is disconnected');

    // Sentinels through the allowed paths: once they arrive, anything routed before them has too.
    const devA = await connectDevice(t, target, a);
    const upstreamCount = upstreamSeen.length;
    await devA.publishAsync(`devices/${A}/status`, 'sentinel', { qos: 1 });
    await untilCount(bms, upstreamSeen, upstreamCount + 1);
    const bCount = bSeen.length;
    await bms.publishAsync(`devices/${B}/commands`, 'sentinel', { qos: 1 });
    await untilCount(devB, bSeen, bCount + 1);
    t.notOk(upstreamSeen.some((m) => m.payload.toString().startsWith('forbidden') || m.payload.toString().startsWith('forged')), 'the app saw none of the refused messages');
    t.notOk(bSeen.some((m) => m.payload.toString().startsWith('forbidden')), 'device B saw none of them');
    t.same(upstream.slice(before).map((m) => m.payload.toString()), ['sentinel'], 'nothing refused reached the ingest sinks (upstream)');
    const usage = await api.get<{ totals: { rejected: number } }>(`/v1/iot/usage?device_id=${A}`);
    t.equal(usage.body.totals.rejected, denied.length, 'each refused publish is counted as rejected');
  });

  await t.test('a will is held to the ACL and published only for an active device', async (t) => {
    const devA = await connectDevice(t, target, a, { will: { topic: `devices/${A}/status`, payload: Buffer.from('offline'), qos: 1, retain: false } });
    const arrived = nextMessage(bms, `devices/${A}/status`);
    (devA as MqttClient & { stream: { destroy(): void } }).stream.destroy();
    t.equal((await arrived).payload.toString(), 'offline', 'an ungraceful close publishes the allowed will');
  });
});

t.test('the ACL with mosquitto_pub and mosquitto_sub', async (t) => {
  const { gw, api } = await withGateway(t);
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const a = await registerDevice(api);
  const A = a.device_id;
  const key = await createKey(api, 'watch', ['mqtt']);
  const watch = await connectApp(t, target, 'watch', key);
  await watch.subscribeAsync('devices/+/telemetry', { qos: 1 });
  const seen = collect(watch);
  const c = a.mqtt_credentials;
  const args = ['-h', '127.0.0.1', '-p', String(target.port), '--cafile', path.join(gw.dataDir, 'certs', 'ca.crt'), '-u', c.username, '-P', c.password, '-i', c.client_id];

  const ok = await runTool('mosquitto_pub', [...args, '-t', `devices/${A}/telemetry`, '-m', 'from mosquitto_pub', '-q', '1']);
  t.equal(ok.code, 0, `mosquitto_pub to its own telemetry succeeds ${ok.stderr}`);
  await untilCount(watch, seen, 1);
  t.equal(seen[0]?.payload.toString(), 'from mosquitto_pub');

  const other = await runTool('mosquitto_pub', [...args, '-t', 'devices/iot_dev_bbbbbbbbbbbb/telemetry', '-m', 'forbidden', '-q', '1']);
  t.not(other.code, 0, 'mosquitto_pub to another device\'s topic fails: the connection was lost');
  const badPassword = await runTool('mosquitto_pub', [...args.slice(0, -4), '-P', 'not-the-password', '-i', c.client_id, '-t', `devices/${A}/telemetry`, '-m', 'x', '-q', '1']);
  t.match(badPassword.stderr, /bad user name or password/, 'mosquitto_pub with a wrong password: bad user name or password');
  for (const filter of ['#', '$SYS/#', 'devices/+/commands']) {
    const sub = await runTool('mosquitto_sub', [...args, '-t', filter, '-q', '1', '-C', '1', '-W', '5']);
    t.match(sub.stderr, /All subscription requests were denied/, `mosquitto_sub ${filter}: denied`);
  }

  // A command through the API reaches mosquitto_sub on the device's command topic. stdbuf: its debug
  // lines must not sit in a pipe buffer, the test waits for "received SUBACK".
  const sub = runTool('stdbuf', ['-oL', 'mosquitto_sub', ...args, '-t', `devices/${A}/commands`, '-q', '1', '-C', '1', '-W', '20', '-v', '-d'], (line) => line.includes('received SUBACK'));
  await sub.ready;
  const sent = await api.post<{ status: string }>(`/v1/iot/devices/${A}/commands`, { command: 'blink' });
  t.equal(sent.body.status, 'delivered');
  const got = await sub;
  t.equal(got.code, 0);
  t.match(got.stdout, new RegExp(`^devices/${A}/commands \\{"command_id":"[0-9a-f-]{36}","command":"blink"`, 'm'), 'mosquitto_sub received the command');

  // Leak check: the sentinel arrives, the forbidden one never did.
  await runTool('mosquitto_pub', [...args, '-t', `devices/${A}/telemetry`, '-m', 'sentinel', '-q', '1']);
  await untilCount(watch, seen, 2);
  t.same(seen.map((m) => m.payload.toString()), ['from mosquitto_pub', 'sentinel'], 'the refused message was never routed');
});
