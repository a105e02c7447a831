import t from 'tap';
import { PassThrough } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { PubackGate } from '../../src/broker/puback-gate.js';

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

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const puback = (messageId: number): mqttPacket.IPubackPacket => ({ cmd: 'puback', messageId });

t.test('a held PUBACK leaves only once its message is on disk, and PUBACKs keep their order', async (t) => {
  const { stream, received, drained } = connection();
  const gate = PubackGate.of(stream);
  const first = deferred();
  const second = deferred();
  gate.hold(1, first.promise, () => t.fail('no failure'));
  gate.hold(2, second.promise, () => t.fail('no failure'));
  t.equal(mqttPacket.writeToStream(puback(1), stream), true, 'aedes sees a successful write');
  mqttPacket.writeToStream(puback(2), stream);
  mqttPacket.writeToStream({ cmd: 'publish', topic: 'devices/x/commands', payload: 'go', qos: 0, retain: false, dup: false }, stream);
  await drained();
  t.same(received(), ['publish'], 'other packets are not held; the PUBACKs are');
  second.resolve();
  await drained();
  t.same(received(), ['publish'], 'the second waits for the first (order of the PUBLISHes)');
  first.resolve();
  await drained();
  t.same(received(), ['publish', 'puback 1', 'puback 2']);
});

t.test('a PUBACK nobody held goes at once, or behind the held ones', async (t) => {
  const { stream, received, drained } = connection();
  const gate = PubackGate.of(stream);
  mqttPacket.writeToStream(puback(7), stream);
  await drained();
  t.same(received(), ['puback 7'], 'nothing held: written at once');
  const held = deferred();
  gate.hold(8, held.promise, () => t.fail('no failure'));
  mqttPacket.writeToStream(puback(8), stream);
  mqttPacket.writeToStream(puback(9), stream);
  await drained();
  t.same(received(), ['puback 7'], 'an application\'s PUBACK waits behind a held one');
  held.resolve();
  await drained();
  t.same(received(), ['puback 7', 'puback 8', 'puback 9']);
});

t.test('a message whose write failed gets no PUBACK: the connection is closed instead', async (t) => {
  const { stream, received, drained } = connection();
  const gate = PubackGate.of(stream);
  const write = deferred();
  let closed = 0;
  gate.hold(3, write.promise, () => { closed += 1; stream.destroy(); });
  mqttPacket.writeToStream(puback(3), stream);
  write.reject(new Error('No space left on device'));
  await drained();
  t.equal(closed, 1, 'the connection is closed');
  t.same(received(), [], 'and no PUBACK was written');
});

t.test('a connection without a gate is written to as mqtt-packet always did', async (t) => {
  const { stream, received, drained } = connection();
  mqttPacket.writeToStream(puback(5), stream);
  await drained();
  t.same(received(), ['puback 5']);
});
