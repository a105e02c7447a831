import t from 'tap';
import { once } from 'node:events';
import mqttPacket from 'mqtt-packet';
import { PacketSizeGuard } from '../../src/broker/packet-size.js';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { closeOf, collect, connectApp, connectDevice, createKey, rawTls, untilCount } from './mqtt-helpers.js';

/** Remaining-length varint of MQTT. */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

t.test('the guard follows packet boundaries across chunks and stops at the first oversized header', async (t) => {
  const small = Buffer.from([0x30, ...varint(5), 0, 1, 0x61, 0x62, 0x63]); // PUBLISH "a" "bc"
  const ping = Buffer.from([0xc0, 0x00]);
  const g = new PacketSizeGuard(1000);
  t.ok(g.inspect(Buffer.concat([small, ping, small])), 'several small packets in one chunk');
  // A 300-byte packet split byte by byte, header included.
  const body = Buffer.alloc(300, 7);
  const big = Buffer.concat([Buffer.from([0x30, ...varint(300)]), body]);
  t.ok([...big].every((byte) => g.inspect(Buffer.from([byte]))), 'a 300-byte packet fed byte by byte');
  t.ok(g.inspect(ping), 'back in step after the split packet');

  const refuse = new PacketSizeGuard(1000);
  t.ok(refuse.inspect(small));
  t.notOk(refuse.inspect(Buffer.from([0x30, ...varint(2_000_000)])), 'a 2 MB header is refused at once');
  t.equal(refuse.announced, 2_000_000);

  const split = new PacketSizeGuard(1000);
  const header = Buffer.from([0x30, ...varint(1001)]);
  t.ok(split.inspect(header.subarray(0, 2)), 'half a length is not judged yet');
  t.notOk(split.inspect(header.subarray(2)), 'the rest of the length decides');

  const exact = new PacketSizeGuard(1000);
  t.ok(exact.inspect(Buffer.from([0x30, ...varint(1000)])), 'exactly the limit passes');

  const malformed = new PacketSizeGuard(1000);
  t.notOk(malformed.inspect(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), 'five length bytes are malformed');
});

t.test('a 2 MB PUBLISH is refused as soon as its header arrives, before its body is buffered', async (t) => {
  const { gw, api } = await withGateway(t);
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const device = await registerDevice(api);
  const socket = await rawTls(target);
  t.teardown(() => socket.destroy());
  socket.on('error', () => undefined);
  const c = device.mqtt_credentials;
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: c.client_id, keepalive: 60, username: c.username, password: Buffer.from(c.password) }));
  const [connack] = await once(socket, 'data') as [Buffer];
  t.same([...connack], [0x20, 0x02, 0x00, 0x00], 'CONNACK accepted');

  const heapBefore = process.memoryUsage().heapUsed;
  const topic = Buffer.from(`devices/${c.client_id}/telemetry`);
  // Only the fixed header, the topic and 1 KB of a payload that claims to be 2 MB.
  socket.write(Buffer.concat([Buffer.from([0x32, ...varint(2 * 1024 * 1024)]), Buffer.from([0, topic.length]), topic, Buffer.from([0, 1]), Buffer.alloc(1024, 0x41)]));
  const t0 = performance.now();
  await once(socket, 'close');
  t.ok(performance.now() - t0 < 5_000, 'the gateway closed the connection without waiting for the rest of the packet');
  t.ok(process.memoryUsage().heapUsed - heapBefore < 1024 * 1024, 'the heap did not grow by anything like the announced size');
  const usage = await api.get<{ totals: { messages_in: number; rejected: number } }>(`/v1/iot/usage?device_id=${c.client_id}`);
  t.equal(usage.body.totals.messages_in, 0, 'nothing was accepted');
  t.equal(usage.body.totals.rejected, 1, 'the refusal is counted');
});

t.test('mqtt.js: a 2 MB message closes the connection and is never routed; exactly 1 MB is fine, 1 MB + 1 byte is not', async (t) => {
  const { gw, api } = await withGateway(t);
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const device = await registerDevice(api);
  const key = await createKey(api, 'watcher', ['mqtt']);
  const watcher = await connectApp(t, target, 'watcher', key);
  await watcher.subscribeAsync(`devices/${device.device_id}/telemetry`, { qos: 1 });
  const seen = collect(watcher);
  const topic = `devices/${device.device_id}/telemetry`;
  const limit = gw.config.mqtt.max_message_bytes;
  t.equal(limit, 1024 * 1024, 'the seed\'s 1 MB');

  const big = await connectDevice(t, target, device);
  const closed = closeOf(big, 10_000);
  big.publish(topic, Buffer.alloc(2 * 1024 * 1024, 0x42), { qos: 1 });
  await closed;
  t.pass('2 MB: connection closed');

  const exact = await connectDevice(t, target, device);
  await exact.publishAsync(topic, Buffer.alloc(limit, 0x43), { qos: 1 });
  t.pass('exactly max_message_bytes: acknowledged');
  const over = closeOf(exact, 10_000);
  exact.publish(topic, Buffer.alloc(limit + 1, 0x44), { qos: 1 });
  await over;
  t.pass('one byte over: connection closed');

  // A last message through a fresh connection: once it has arrived, anything routed before it has too.
  const last = await connectDevice(t, target, device);
  await last.publishAsync(topic, 'sentinel', { qos: 1 });
  await untilCount(watcher, seen, 2);
  t.same(seen.map((m) => m.payload.length), [limit, 'sentinel'.length], 'only the messages within the limit were routed');
});
