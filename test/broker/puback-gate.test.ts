import t from 'tap';
import { PassThrough } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { PubackGate } from '../../src/broker/puback-gate.js';
import { interceptPacketWrites } from '../../src/broker/packet-writer.js';

// As the broker does at start: aedes' PUBACKs reach their gates through the packet writer.
interceptPacketWrites();

/**
 * The gate on a real stream with mqtt-packet's own writer and parser (what aedes uses): what a
 * device would read off its connection, in order.
 */
function connection(): { stream: PassThrough; received: () => string[]; drained: () => Promise<void> } {
  const stream = new PassThrough();
  const seen: string[] = [];
  const parser = mqttPacket.parser();
  parser.on('packet', (p) => seen.push(`${p.cmd}${'messageId' in p && p.messageId !== undefined ? ` ${p.messageId}` : ''}`));
  stream.on('data', (chunk: Buffer) => parser.parse(chunk));
  return { stream, received: () => [...seen], drained: () => new Promise((resolve) => setImmediate(resolve)) };
}

/** What aedes' client offers the gate: close(), counted. */
function client(): { close: () => void; closed: () => number } {
  let closed = 0;
  return { close: () => { closed += 1; }, closed: () => closed };
}

const puback = (messageId: number): mqttPacket.IPubackPacket => ({ cmd: 'puback', messageId });

t.test('a held PUBACK leaves only once its batch is synced, and PUBACKs keep their order', async (t) => {
  const { stream, received, drained } = connection();
  const gate = PubackGate.of(stream, client());
  gate.hold(1, 1);
  gate.hold(2, 2);
  t.equal(mqttPacket.writeToStream(puback(1), stream), true, 'aedes sees a successful write');
  mqttPacket.writeToStream(puback(2), stream);
  mqttPacket.writeToStream({ cmd: 'publish', topic: 'devices/x/commands', payload: 'go', qos: 0, retain: false, dup: false }, stream);
  await drained();
  t.same(received(), ['publish'], 'other packets are not held; the PUBACKs are');
  gate.batchCommitted(1);
  await drained();
  t.same(received(), ['publish', 'puback 1'], 'the first batch synced: its PUBACK leaves, the second waits');
  gate.batchCommitted(2);
  await drained();
  t.same(received(), ['publish', 'puback 1', 'puback 2']);
});

t.test('a PUBACK written before its batch is synced waits; one held in an earlier batch goes first', async (t) => {
  const { stream, received, drained } = connection();
  const gate = PubackGate.of(stream, client());
  gate.hold(4, 3);
  gate.hold(5, 3);
  gate.batchCommitted(3);
  t.same(received(), [], 'nothing was written yet: nothing to send');
  mqttPacket.writeToStream(puback(4), stream);
  mqttPacket.writeToStream(puback(5), stream);
  await drained();
  t.same(received(), ['puback 4', 'puback 5'], 'written by aedes after the batch was synced: sent at once');
});

t.test('a PUBACK nobody held goes at once, or behind the held ones', async (t) => {
  const { stream, received, drained } = connection();
  const gate = PubackGate.of(stream, client());
  mqttPacket.writeToStream(puback(7), stream);
  await drained();
  t.same(received(), ['puback 7'], 'nothing held: written at once');
  gate.hold(8, 1);
  mqttPacket.writeToStream(puback(8), stream);
  mqttPacket.writeToStream(puback(9), stream);
  await drained();
  t.same(received(), ['puback 7'], 'an application\'s PUBACK waits behind a held one');
  gate.batchCommitted(1);
  await drained();
  t.same(received(), ['puback 7', 'puback 8', 'puback 9']);
});

t.test('a message whose batch failed gets no PUBACK: the connection is closed instead', async (t) => {
  const { stream, received, drained } = connection();
  const device = client();
  const gate = PubackGate.of(stream, device);
  gate.hold(3, 1);
  mqttPacket.writeToStream(puback(3), stream);
  gate.batchFailed();
  gate.batchCommitted(2);
  await drained();
  t.equal(device.closed(), 1, 'the connection is closed');
  t.same(received(), [], 'and no PUBACK was written');
});

t.test('a connection without a gate is written to as mqtt-packet always did', async (t) => {
  const { stream, received, drained } = connection();
  mqttPacket.writeToStream(puback(5), stream);
  await drained();
  t.same(received(), ['puback 5']);
});

t.test('PUBACKs released together leave in one write, byte for byte what mqtt-packet writes', async (t) => {
  const stream = new PassThrough();
  const writes: Buffer[] = [];
  const corked: number[] = [];
  const write = stream.write.bind(stream);
  stream.write = ((chunk: Buffer, ...rest: never[]) => {
    writes.push(Buffer.from(chunk));
    corked.push(stream.writableCorked);
    return write(chunk, ...rest);
  }) as typeof stream.write;
  const gate = PubackGate.of(stream, client());
  const ids = [1, 255, 256, 65535];
  for (const id of ids) gate.hold(id, 1);
  for (const id of ids) mqttPacket.writeToStream(puback(id), stream);
  t.same(writes, [], 'held');
  gate.batchCommitted(1);
  t.equal(writes.length, 1, 'one write for the four');
  const expected = Buffer.concat(ids.map((id) => mqttPacket.generate(puback(id))));
  t.same(writes[0], expected, 'the bytes mqtt-packet makes for each PUBACK, in order');
  // A gateway socket's cork joins the turn's single socket write (write-coalescing.ts), as every
  // packet mqtt-packet writes does; written uncorked, the PUBACKs made a TLS record of their own.
  t.ok((corked[0] ?? 0) > 0, 'written while the stream is corked');
  await new Promise((resolve) => process.nextTick(resolve));
  t.equal(stream.writableCorked, 0, 'and uncorked on the next tick');
});
