import t, { type Test } from 'tap';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import mqttPacket from 'mqtt-packet';
import { coalesceWrites } from '../../src/broker/write-coalescing.js';

/** A loopback pair: the server side gets coalesceWrites when asked; the client side collects bytes. */
async function socketPair(t: Test, coalesce: boolean): Promise<{ sender: Socket; received: () => Buffer; writes: () => number }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  const [sender] = await accepted;
  t.teardown(() => { client.destroy(); sender.destroy(); server.close(); });
  if (coalesce) coalesceWrites(sender);
  // Counts the writes the stream hands to the socket (one per syscall, each a TLS record on TLS).
  let writes = 0;
  const internals = sender as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const write = internals._write.bind(sender);
  const writev = internals._writev.bind(sender);
  internals._write = (...a) => { writes += 1; write(...a); };
  internals._writev = (...a) => { writes += 1; writev(...a); };
  const chunks: Buffer[] = [];
  client.on('data', (c: Buffer) => chunks.push(c));
  return { sender, received: () => Buffer.concat(chunks), writes: () => writes };
}

/** Like aedes: each delivery from its own setImmediate callback, one packet each. */
async function deliver(sender: Socket, count: number): Promise<Buffer> {
  const expected: Buffer[] = [];
  await new Promise<void>((resolve) => {
    for (let i = 0; i < count; i++) {
      const packet = { cmd: 'publish' as const, topic: 'devices/iot_dev_aaaaaaaaaaaa/telemetry', payload: Buffer.from(`{"n":${i}}`), qos: 0 as const, dup: false, retain: false };
      expected.push(mqttPacket.generate(packet));
      setImmediate(() => { mqttPacket.writeToStream(packet, sender); if (i === count - 1) resolve(); });
    }
  });
  return Buffer.concat(expected);
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

t.test('the packets of one event-loop turn leave in one write, complete and in order', async (t) => {
  const plain = await socketPair(t, false);
  const expectedPlain = await deliver(plain.sender, 50);
  await until(() => plain.received().length >= expectedPlain.length);
  t.same(plain.received(), expectedPlain, 'without coalescing: every packet arrives');

  const coalesced = await socketPair(t, true);
  const expected = await deliver(coalesced.sender, 50);
  await until(() => coalesced.received().length >= expected.length);
  t.same(coalesced.received(), expected, 'with coalescing: the same bytes, in order');
  t.ok(plain.writes() >= 50, `without coalescing each delivery is its own write (${plain.writes()})`);
  t.ok(coalesced.writes() <= 2, `with coalescing the turn's deliveries leave in one write (${coalesced.writes()})`);
});

t.test('a connection that ends right after writing still sends everything', async (t) => {
  const pair = await socketPair(t, true);
  const packet = { cmd: 'publish' as const, topic: 'a/b', payload: Buffer.from('last words'), qos: 0 as const, dup: false, retain: false };
  mqttPacket.writeToStream(packet, pair.sender);
  pair.sender.end();
  const expected = mqttPacket.generate(packet);
  await until(() => pair.received().length >= expected.length);
  t.same(pair.received(), expected);
});
