import t from 'tap';
import { PassThrough } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { publishBytes } from '../../src/broker/publish-bytes.js';
import { interceptPacketWrites } from '../../src/broker/packet-writer.js';

type Publish = mqttPacket.IPublishPacket;

const publish = (over: Partial<Publish>): Publish => ({ cmd: 'publish', topic: 'devices/iot_dev_1/telemetry', payload: Buffer.from('{"t":21.5}'), qos: 0, dup: false, retain: false, ...over });

// QoS 0-2, flags, a non-ASCII topic, an empty payload, and at QoS 1 on this 27-byte topic (remaining
// length = payload + 31) the payloads that put the remaining length on either side of its 1/2, 2/3
// and 3/4-byte boundaries (127, 16,383, 2,097,151) and of the copy limit (2,048 bytes).
const cases: Array<[string, Publish]> = [
  ['QoS 0', publish({})],
  ['QoS 1 with a packet id', publish({ qos: 1, messageId: 1 })],
  ['QoS 2, dup, retain, id 65535', publish({ qos: 2, dup: true, retain: true, messageId: 65535 })],
  ['id 256 (both bytes)', publish({ qos: 1, messageId: 256 })],
  ['empty payload', publish({ payload: Buffer.alloc(0) })],
  ['non-ASCII topic', publish({ topic: 'devices/iot_dev_1/telemetry/søkk/温度' })],
  ...[96, 97, 16_352, 16_353, 2_097_120, 2_097_121, 2_048, 2_049].map((n): [string, Publish] => [`payload of ${n} bytes`, publish({ qos: 1, messageId: 7, payload: Buffer.alloc(n, 0x61) })]),
];

t.test('a PUBLISH is laid out byte for byte as mqtt-packet writes it', async (t) => {
  for (const [name, packet] of cases) {
    const chunks = publishBytes(packet);
    t.ok(chunks, `${name}: encoded`);
    t.same(Buffer.concat(chunks ?? []), mqttPacket.generate(packet), name);
  }
  t.equal(publishBytes(publish({ payload: Buffer.alloc(100) }))?.length, 1, 'a small payload is copied: one chunk');
  t.equal(publishBytes(publish({ payload: Buffer.alloc(5000) }))?.length, 2, 'a large one follows the header as it is');
});

t.test('what is not the plain case is left to mqtt-packet', async (t) => {
  t.equal(publishBytes(publish({ payload: 'text' as unknown as Buffer })), undefined, 'a string payload');
  t.equal(publishBytes(publish({ qos: 1 })), undefined, 'QoS 1 without a packet id');
  t.equal(publishBytes(publish({ qos: 1, messageId: 70_000 })), undefined, 'a packet id out of range');
  t.equal(publishBytes(publish({ topic: Buffer.from('x') as unknown as string })), undefined, 'a Buffer topic');
  t.equal(publishBytes(publish({ qos: 3 as 0 })), undefined, 'QoS 3');
});

t.test('through writeToStream: one corked write that a parser reads back, other packets as before', async (t) => {
  interceptPacketWrites();
  const stream = new PassThrough();
  const writes: Buffer[] = [];
  const write = stream.write.bind(stream);
  stream.write = ((chunk: Buffer, ...rest: never[]) => { writes.push(Buffer.from(chunk)); return write(chunk, ...rest); }) as typeof stream.write;
  const parsed: mqttPacket.Packet[] = [];
  const parser = mqttPacket.parser();
  parser.on('packet', (p) => parsed.push(p));
  stream.on('data', (chunk: Buffer) => parser.parse(chunk));
  const packet = publish({ qos: 1, messageId: 42 });
  t.equal(mqttPacket.writeToStream(packet, stream), true, 'the write is accepted');
  t.equal(writes.length, 1, 'one write');
  t.equal(stream.writableCorked, 1, 'corked until the next tick');
  await new Promise((resolve) => process.nextTick(resolve));
  t.equal(stream.writableCorked, 0);
  // A packet written with options (mqtt.js' client) or of another kind goes through mqtt-packet.
  mqttPacket.writeToStream(packet, stream, { protocolVersion: 4 });
  mqttPacket.writeToStream({ cmd: 'pingresp' }, stream);
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(writes.length > 3, 'mqtt-packet made its several writes for those');
  t.same(parsed.map((p) => p.cmd), ['publish', 'publish', 'pingresp']);
  const first = parsed[0] as Publish;
  t.equal(first.messageId, 42);
  t.same(first.payload, packet.payload);
});
