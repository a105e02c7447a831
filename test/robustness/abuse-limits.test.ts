import t from 'tap';
import mqttPacket from 'mqtt-packet';
import { registerDevice } from '../helpers/devices.js';
import { RawConnection, pool } from './helpers/raw.js';
import { deviceConnect } from './helpers/replay.js';
import { Heartbeat, formatHeartbeat } from './helpers/heartbeat.js';
import { connackCode, rawApp, rawDevice, spawnUnderTest, usageOf } from './helpers/gateway-under-test.js';
import { MiB, mb, PeakSampler } from './helpers/process.js';

/** A socket that has not sent CONNECT by then is closed (set low for the test). */
const CONNECT_TIMEOUT_MS = 1_000;
const HALF_OPEN = 500;
/** The broker's limits this file checks (src/broker/broker.ts, gateway.yaml defaults). */
const MAX_INFLIGHT_INBOUND = 100;
const MAX_SUBSCRIPTIONS = 100;
const KEEPALIVE_MAX = 1_200;

t.test('resource abuse: huge lengths, half-open sockets, keepalive, subscriptions, a QoS 2 flood — bounded, and a device keeps publishing', async (t) => {
  const g = await spawnUnderTest(t, { WAYS_EDGE_MQTT_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS), WAYS_EDGE_MQTT_RATE_LIMIT: '0' });
  const { api, target } = g;
  const heartbeat = new Heartbeat(target, await registerDevice(api, 'limits-heartbeat'));
  await heartbeat.start();
  const rssStart = g.rss();
  const peak = new PeakSampler(g.rss);

  await t.test('a remaining length of 0xFFFFFF7F (268,435,455) closes the connection at its header, before and after CONNECT', async (t) => {
    const device = await registerDevice(api, 'limits-huge');
    const huge = Buffer.from([0xff, 0xff, 0xff, 0x7f]);
    const before = await RawConnection.open(target);
    before.send(Buffer.concat([Buffer.from([0x10]), huge]));
    t.ok(await before.closedWithin(1_000), 'a CONNECT announcing 256 MB: closed at once');
    const after = await rawDevice(target, device);
    after.send(Buffer.concat([Buffer.from([0x32]), huge, Buffer.from([0, 4]), Buffer.from('abcd'), Buffer.alloc(4096, 0x41)]));
    t.ok(await after.closedWithin(1_000), 'a PUBLISH announcing 256 MB: closed at once');
    const usage = await usageOf(api, device.device_id);
    t.match(usage, { messages_in: 0, rejected: 1 }, 'nothing accepted, the refusal counted');
  });

  await t.test(`${HALF_OPEN} TLS sockets that never send CONNECT are all closed within connect_timeout_ms`, async (t) => {
    const opened: Array<{ conn: RawConnection; at: number }> = [];
    await pool(Array.from({ length: HALF_OPEN }, (_, i) => i), 50, async () => {
      const conn = await RawConnection.open(target);
      opened.push({ conn, at: performance.now() });
    });
    t.equal(opened.length, HALF_OPEN, `${HALF_OPEN} TLS handshakes completed`);
    const device = await registerDevice(api, 'limits-during-half-open');
    const during = await rawDevice(target, device);
    t.pass('a device connects while they hang');
    during.destroy();
    await Promise.all(opened.map((o) => o.conn.closed));
    const late = opened.map((o) => (o.conn.closedAt as number) - o.at).filter((ms) => ms > CONNECT_TIMEOUT_MS + 1_000);
    t.same(late, [], `each was closed by the gateway within ${CONNECT_TIMEOUT_MS} ms + 1 s of its handshake`);
  });

  await t.test(`keepalive: 0 and 65535 are refused (CONNACK 2, over keepalive_max_seconds ${KEEPALIVE_MAX}); ${KEEPALIVE_MAX} is accepted`, async (t) => {
    const device = await registerDevice(api, 'limits-keepalive');
    t.equal(await connackCode(target, deviceConnect(device, 4, 65535)), 2, 'keepalive 65535 → identifier rejected');
    t.equal(await connackCode(target, deviceConnect(device, 4, 0)), 2, 'keepalive 0 (never) → identifier rejected');
    t.equal(await connackCode(target, deviceConnect(device, 4, KEEPALIVE_MAX)), 0, `keepalive ${KEEPALIVE_MAX} → accepted`);
  });

  await t.test(`10,000 subscriptions in one SUBSCRIBE: ${MAX_SUBSCRIPTIONS} granted (mqtt.max_subscriptions_per_client), the rest refused`, async (t) => {
    const key = (await api.post<{ key: string }>('/v1/iot/keys', { name: 'subscriber', scopes: ['mqtt'] })).body.key;
    const app = await rawApp(target, 'subscriber', key);
    t.teardown(() => app.destroy());
    const filters = Array.from({ length: 10_000 }, (_, i) => `devices/iot_dev_${i.toString(36).padStart(12, '0')}/telemetry`);
    const subscribe = mqttPacket.generate({ cmd: 'subscribe', messageId: 7, subscriptions: filters.map((topic) => ({ topic, qos: 1 as const })) });
    t.ok(subscribe.length < 1024 * 1024, `the SUBSCRIBE is ${(subscribe.length / 1024).toFixed(0)} KB, within the packet limit`);
    app.send(subscribe);
    // SUBACK: 0x90, a 2-byte remaining length (10,002), packet id, one code per filter.
    const { bytes } = await app.read(1 + 2 + 2 + 10_000, 15_000);
    t.same([...bytes.subarray(0, 5)], [0x90, 0x92, 0x4e, 0, 7], 'a SUBACK for all 10,000');
    const codes = [...bytes.subarray(5)];
    t.equal(codes.filter((c) => c === 1).length, MAX_SUBSCRIPTIONS, `${MAX_SUBSCRIPTIONS} granted`);
    t.equal(codes.filter((c) => c === 0x80).length, 10_000 - MAX_SUBSCRIPTIONS, 'the rest refused with 0x80');
    app.send(mqttPacket.generate({ cmd: 'subscribe', messageId: 8, subscriptions: [{ topic: 'devices/+/telemetry', qos: 0 }] }));
    t.same([...(await app.read(5, 5_000)).bytes], [0x90, 3, 0, 8, 0x80], 'one more is refused too');
    app.send(mqttPacket.generate({ cmd: 'unsubscribe', messageId: 9, unsubscriptions: filters.slice(0, 1) }));
    t.same([...(await app.read(4, 5_000)).bytes], [0xb0, 2, 0, 9], 'unsubscribed one');
    app.send(mqttPacket.generate({ cmd: 'subscribe', messageId: 10, subscriptions: [{ topic: 'devices/+/telemetry', qos: 0 }] }));
    t.same([...(await app.read(5, 5_000)).bytes], [0x90, 3, 0, 10, 0], 'and then one more fits');
  });

  await t.test(`a QoS 2 flood that never sends PUBREL: ${MAX_INFLIGHT_INBOUND} PUBRECs (maxInflightInbound), then the connection closes`, async (t) => {
    const device = await registerDevice(api, 'limits-qos2');
    const conn = await rawDevice(target, device);
    const topic = `devices/${device.device_id}/telemetry`;
    const qos2 = (from: number, count: number): Buffer => Buffer.concat(Array.from({ length: count }, (_, i) =>
      mqttPacket.generate({ cmd: 'publish', topic, qos: 2, messageId: from + i, payload: Buffer.from(`{"n":${from + i}}`), retain: false, dup: false })));
    conn.send(qos2(1, MAX_INFLIGHT_INBOUND));
    const { bytes, ended } = await conn.read(4 * MAX_INFLIGHT_INBOUND, 10_000);
    t.equal(ended, 'ok', `${MAX_INFLIGHT_INBOUND} PUBRECs for the first ${MAX_INFLIGHT_INBOUND}, none released`);
    t.ok(bytes.length === 4 * MAX_INFLIGHT_INBOUND && [...Array(MAX_INFLIGHT_INBOUND).keys()].every((i) => bytes[4 * i] === 0x50), 'all PUBRECs');
    conn.send(qos2(MAX_INFLIGHT_INBOUND + 1, 50));
    t.ok(await conn.closedWithin(10_000), 'one more unreleased QoS 2 message closes the connection');
    t.equal(conn.pending().length, 0, 'without a PUBREC for it');
    const usage = await usageOf(api, device.device_id);
    t.ok(usage.messages_in >= MAX_INFLIGHT_INBOUND, `every message that got a PUBREC is stored and counted (${usage.messages_in} in all: those past the window were stored before aedes refused them, without a PUBREC, so the device sends them again — at least once)`);
    const again = await rawDevice(target, device);
    t.pass('the device connects again (clean session: its unreleased QoS 2 state is gone)');
    again.destroy();
  });

  const beat = await heartbeat.stop();
  const rssPeak = peak.stop();
  t.equal(g.gw.child.exitCode, null, 'the gateway is still running');
  t.equal(beat.failed, 0, 'the heartbeat device never lost its connection');
  t.ok(beat.acked === beat.sent && beat.p99 < 1_000, `and kept publishing QoS 1: ${formatHeartbeat(beat)}`);
  t.ok(rssPeak - rssStart < 256 * MiB, `gateway RSS ${mb(rssStart)} at the start, peak ${mb(rssPeak)}, ${mb(g.rss())} at the end`);
});
