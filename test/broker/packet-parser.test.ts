import t from 'tap';
import { once } from 'node:events';
import mqttPacket from 'mqtt-packet';
import { FastPathParser, interceptPacketParsing } from '../../src/broker/packet-parser.js';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { collect, connectApp, createKey, rawTls, untilCount } from './mqtt-helpers.js';

// mqtt-packet's own factory, taken before anything installs the fast path: the reference.
const referenceFactory = mqttPacket.parser;

type Event = { packet: { proto: unknown; keys: string[]; fields: Record<string, unknown> } } | { error: string };

/** Everything a parser emits for these chunks, in order, with each packet's class and field order. */
function run(parser: ReturnType<typeof mqttPacket.parser>, chunks: readonly Buffer[]): Event[] {
  const events: Event[] = [];
  parser.on('packet', (p: object) => {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p)) fields[k] = Buffer.isBuffer(v) ? `bytes:${v.toString('hex')}` : v;
    events.push({ packet: { proto: Object.getPrototypeOf(p), keys: Object.keys(p), fields } });
  });
  parser.on('error', (err: Error) => events.push({ error: err.message }));
  for (const chunk of chunks) parser.parse(chunk);
  return events;
}

const fast = (): ReturnType<typeof mqttPacket.parser> => new FastPathParser().parser() as unknown as ReturnType<typeof mqttPacket.parser>;

const gen = (p: object, opts?: object): Buffer => mqttPacket.generate(p as mqttPacket.Packet, opts);
const topic = 'devices/iot_dev_1/telemetry';
const publish = (over: object): Buffer => gen({ cmd: 'publish', topic, payload: Buffer.from('{"t":21.5}'), qos: 0, dup: false, retain: false, ...over });

// What a device sends: CONNECT, then PUBLISH at every QoS with every flag, PUBACKs, pings, a
// SUBSCRIBE, and payloads that put the remaining length on both sides of the varint's 1/2 and 2/3
// byte boundaries (127/128, 16,383/16,384 with this 27-byte topic at QoS 1: payload + 31).
const deviceStream = Buffer.concat([
  gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'iot_dev_1', keepalive: 60, username: 'iot_dev_1', password: Buffer.from('secret') }),
  publish({}),
  publish({ qos: 1, messageId: 1 }),
  publish({ qos: 2, dup: true, retain: true, messageId: 65535 }),
  publish({ qos: 1, messageId: 256, payload: Buffer.alloc(0) }),
  publish({ topic: 'devices/iot_dev_1/telemetry/søkk/温度' }),
  gen({ cmd: 'puback', messageId: 7 }),
  gen({ cmd: 'pingreq' }),
  gen({ cmd: 'subscribe', messageId: 9, subscriptions: [{ topic: 'devices/iot_dev_1/commands', qos: 1 }] }),
  ...[96, 97, 16_352, 16_353].map((n) => publish({ qos: 1, messageId: 3, payload: Buffer.alloc(n, 0x61) })),
  gen({ cmd: 'pubrel', messageId: 65535 }),
  publish({ qos: 1, messageId: 4 }),
  gen({ cmd: 'disconnect' }),
]);

/** Splits at the given offsets. */
function split(buf: Buffer, at: readonly number[]): Buffer[] {
  const cuts = [0, ...at, buf.length];
  return cuts.slice(1).map((end, i) => buf.subarray(cuts[i], end));
}

/** A small deterministic generator, so a failing split can be found again. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
}

t.test('the packets are the ones mqtt-packet emits, however the bytes are cut into chunks', async (t) => {
  const reference = run(referenceFactory(), [deviceStream]);
  t.equal(reference.length, 16, 'the reference parses the whole stream');
  t.same(run(fast(), [deviceStream]), reference, 'one chunk');
  t.same(run(fast(), [...deviceStream].map((b) => Buffer.from([b]))), reference, 'byte by byte');
  const random = lcg(42);
  for (let round = 0; round < 50; round++) {
    const cuts = [...new Set(Array.from({ length: 1 + Math.floor(random() * 12) }, () => 1 + Math.floor(random() * (deviceStream.length - 1))))].sort((a, b) => a - b);
    const got = run(fast(), split(deviceStream, cuts));
    if (!t.same(got, reference, `cut at ${cuts.join(',')}`)) break;
  }
  // Every two-chunk split of the first few packets: a header, a length or a topic cut anywhere.
  const head = deviceStream.subarray(0, 200);
  const headReference = run(referenceFactory(), [head]);
  for (let cut = 1; cut < head.length; cut++) {
    if (!t.same(run(fast(), split(head, [cut])), headReference, `two chunks, cut at ${cut}`)) break;
  }
});

t.test('PUBLISH and PUBACK in whole chunks skip mqtt-packet; anything else goes to it', async (t) => {
  const base = Object.getPrototypeOf(FastPathParser.prototype) as { parse: (buf: Buffer) => number };
  const original = base.parse;
  // t.capture's getter returns the calls since it was last asked.
  const calls = t.capture(base, 'parse', function (this: unknown, buf: Buffer) { return original.call(this, buf); });
  const parser = fast();
  const packets: string[] = [];
  parser.on('packet', (p: { cmd: string }) => packets.push(p.cmd));
  parser.parse(Buffer.concat([publish({}), publish({ qos: 1, messageId: 2 }), gen({ cmd: 'puback', messageId: 2 })]));
  t.equal(calls().length, 0, 'three whole plain packets: mqtt-packet not called');
  parser.parse(gen({ cmd: 'pingreq' }));
  t.equal(calls().length, 1, 'a PINGREQ: mqtt-packet');
  const cut = publish({ qos: 1, messageId: 3 });
  parser.parse(cut.subarray(0, 10));
  parser.parse(cut.subarray(10));
  t.equal(calls().length, 2, 'a PUBLISH cut across two chunks: mqtt-packet for both');
  parser.parse(Buffer.concat([publish({}), gen({ cmd: 'pingreq' }), publish({})]));
  t.same(calls().map((c) => c.args[0]?.length), [2 + publish({}).length], 'mqtt-packet takes over from the first packet it is needed for');
  parser.parse(publish({}));
  t.equal(calls().length, 0, 'and hands back once it holds nothing');
  t.same(packets, ['publish', 'publish', 'puback', 'pingreq', 'publish', 'publish', 'pingreq', 'publish', 'publish'], 'all in order');
});

t.test('malformed packets get mqtt-packet\'s own errors', async (t) => {
  // [name, bytes, whether mqtt-packet reports an error for it]
  const cases: Array<[string, Buffer, boolean]> = [
    ['QoS 3', Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]), true],
    ['a PUBLISH too short for its topic length', Buffer.from([0x30, 0x01, 0x00]), true],
    ['a topic longer than the packet', Buffer.from([0x30, 0x04, 0x00, 0x09, 0x61, 0x62]), true],
    // mqtt-packet reads the id from the next packet's bytes: odd, but the same odd either way.
    ['a QoS 1 packet id past the packet end', Buffer.concat([Buffer.from([0x32, 0x03, 0x00, 0x01, 0x61]), publish({})]), false],
    ['PUBACK with flags', Buffer.from([0x42, 0x02, 0x00, 0x01]), true],
    // MQTT 3.1.1 allows only 2; mqtt-packet lets it pass (the packet guard refuses it first).
    ['PUBACK of 3 bytes', Buffer.from([0x40, 0x03, 0x00, 0x01, 0x00]), false],
    ['a fifth length byte', Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), true],
  ];
  for (const [name, bytes, complains] of cases) {
    const chunks = [publish({}), bytes, publish({})];
    const reference = run(referenceFactory(), chunks);
    t.equal(reference.some((e) => 'error' in e), complains, `${name}: mqtt-packet ${complains ? 'reports an error' : 'lets it pass'}`);
    t.same(run(fast(), chunks), reference, `${name}: the same events from the fast path parser`);
  }
});

t.test('an MQTT 5 connection is parsed by mqtt-packet (properties)', async (t) => {
  const chunks = [
    gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'c5', keepalive: 60 }, { protocolVersion: 5 }),
    gen({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 1, messageId: 5, dup: false, retain: false, properties: { contentType: 'application/json' } }, { protocolVersion: 5 }),
  ];
  const reference = run(referenceFactory(), chunks);
  t.match(reference[1], { packet: { fields: { properties: { contentType: 'application/json' } } } }, 'the reference reads the property');
  t.same(run(fast(), chunks), reference, 'so does the fast path parser');
});

t.test('a chunk handed in by a packet handler is parsed after the rest of the chunk being parsed', async (t) => {
  // mqtt-packet's own parser cannot be re-entered from a 'packet' handler (it emits from inside its
  // state machine and would take the same packet again), and aedes does not do it; the fast path
  // parser loops over a chunk itself, so it keeps such a chunk for later instead of interleaving.
  const first = Buffer.concat([publish({ qos: 1, messageId: 1 }), publish({ qos: 1, messageId: 2 }), publish({ qos: 1, messageId: 3 })]);
  const second = Buffer.concat([publish({ qos: 1, messageId: 4 }), gen({ cmd: 'pingreq' }), publish({ qos: 1, messageId: 5 })]);
  const third = publish({ qos: 1, messageId: 6 });
  const parser = fast();
  const seen: Array<number | string> = [];
  parser.on('packet', (p: { cmd: string; messageId?: number }) => {
    seen.push(p.messageId ?? p.cmd);
    if (p.messageId === 1) parser.parse(second);
    if (p.messageId === 4) parser.parse(third);
  });
  parser.parse(first);
  t.same(seen, [1, 2, 3, 4, 'pingreq', 5, 6], 'chunk order, then packet order');

  // A handler that throws (a bug) loses the rest of its chunk, as with mqtt-packet, but not the order
  // of the chunks handed in meanwhile: they go before the next one.
  const failing = fast();
  const got: number[] = [];
  failing.on('packet', (p: { messageId?: number }) => {
    got.push(p.messageId ?? 0);
    if (p.messageId === 1) { failing.parse(publish({ qos: 1, messageId: 7 })); throw new Error('handler bug'); }
  });
  t.throws(() => failing.parse(first), /handler bug/, 'the error reaches the caller');
  failing.parse(publish({ qos: 1, messageId: 8 }));
  t.same(got, [1, 7, 8], 'the chunk handed in before the error, then the next one');
});

t.test('installed, the factory gives aedes the fast path and mqtt.js (which passes options) mqtt-packet', async (t) => {
  interceptPacketParsing();
  interceptPacketParsing();
  t.ok(mqttPacket.parser() instanceof FastPathParser, 'no options: the fast path');
  t.notOk(mqttPacket.parser({ protocolVersion: 4 }) instanceof FastPathParser, 'options: mqtt-packet');
  const events = run(mqttPacket.parser(), [deviceStream]);
  t.same(events, run(referenceFactory(), [deviceStream]), 'and it parses what the reference parses');
});

t.test('through the gateway: a device\'s packets arrive whole and in order however its writes cut them', async (t) => {
  const { gw, api } = await withGateway(t);
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const device = await registerDevice(api);
  const c = device.mqtt_credentials;
  const deviceTopic = `devices/${device.device_id}/telemetry`;
  const key = await createKey(api, 'watcher', ['mqtt']);
  const watcher = await connectApp(t, target, 'watcher', key);
  await watcher.subscribeAsync(deviceTopic, { qos: 1 });
  const seen = collect(watcher);

  const socket = await rawTls(target);
  t.teardown(() => socket.destroy());
  // What the gateway sends back, read by mqtt-packet's own parser.
  const replies: Array<{ cmd: string; messageId?: number }> = [];
  const reader = referenceFactory();
  reader.on('packet', (p: { cmd: string; messageId?: number }) => replies.push(p));
  socket.on('data', (chunk: Buffer) => reader.parse(chunk));
  socket.write(gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: c.client_id, keepalive: 60, username: c.username, password: Buffer.from(c.password) }));
  while (replies.length === 0) await once(socket, 'data');
  t.equal(replies[0]?.cmd, 'connack', 'connected');

  // 30 messages, QoS 1 and 0 alternating, with a PINGREQ among them; sent as: five in one write, one
  // in three writes, then the rest in 7-byte writes (each write is a TLS record of its own).
  const packets: Buffer[] = [];
  for (let n = 1; n <= 30; n++) {
    packets.push(gen({ cmd: 'publish', topic: deviceTopic, payload: Buffer.from(JSON.stringify({ n })), qos: n % 2, messageId: n % 2 ? n : undefined, dup: false, retain: false }));
    if (n === 12) packets.push(gen({ cmd: 'pingreq' }));
  }
  const pause = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  socket.write(Buffer.concat(packets.slice(0, 5)));
  const sixth = packets[5] as Buffer;
  for (const part of [sixth.subarray(0, 1), sixth.subarray(1, 9), sixth.subarray(9)]) { socket.write(part); await pause(); }
  const rest = Buffer.concat(packets.slice(6));
  for (let at = 0; at < rest.length; at += 7) { socket.write(rest.subarray(at, at + 7)); if (at % 70 === 0) await pause(); }

  await untilCount(watcher, seen, 30);
  const numbers = seen.map((m) => (JSON.parse(m.payload.toString()) as { n: number }).n);
  t.same([...numbers].sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i + 1), 'every message reached the subscriber, once');
  // MQTT orders messages per topic *and QoS* [MQTT-4.6.0-6]; aedes routes a QoS 1 message a step
  // later than a QoS 0 one (it also does so with mqtt-packet's parser), so only that order is checked.
  t.same(numbers.filter((n) => n % 2 === 1), Array.from({ length: 15 }, (_, i) => 2 * i + 1), 'the QoS 1 messages in order');
  t.same(numbers.filter((n) => n % 2 === 0), Array.from({ length: 15 }, (_, i) => 2 * i + 2), 'the QoS 0 messages in order');
  while (replies.filter((r) => r.cmd === 'puback').length < 15) await once(socket, 'data');
  t.same(replies.filter((r) => r.cmd === 'puback').map((r) => r.messageId), Array.from({ length: 15 }, (_, i) => 2 * i + 1), 'a PUBACK for every QoS 1 message, in order');
  t.ok(replies.some((r) => r.cmd === 'pingresp'), 'the PINGREQ among them was answered');
});
