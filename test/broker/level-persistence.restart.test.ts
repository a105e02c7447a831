/**
 * What LevelPersistence keeps across a restart: each test writes through one instance, closes the
 * LevelDB, reopens it from disk and checks the state through a new instance (and, in the last test,
 * through a real aedes broker and MQTT clients).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Aedes } from 'aedes';
import { Level } from 'level';
import mqtt, { type MqttClient } from 'mqtt';
import { LevelPersistence } from '../../src/broker/persistence/level-persistence.js';

interface Opened {
  db: Level<string, unknown>;
  persistence: LevelPersistence;
}

/** Opens the LevelDB at `dir` the way the gateway does and a persistence on a sublevel of it. */
async function open(dir: string, brokerId = 'broker-1'): Promise<Opened> {
  const db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
  await db.open();
  const persistence = new LevelPersistence({ db: db.sublevel<string, unknown>('ses', { valueEncoding: 'json' }) });
  await persistence.setup({ id: brokerId });
  return { db, persistence };
}

async function close({ db, persistence }: Opened): Promise<void> {
  await persistence.destroy();
  await db.close();
}

async function collect(stream: Readable): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  for await (const item of stream) items.push(item as Record<string, unknown>);
  return items;
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wep-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('subscriptions survive a restart', async (t) => {
  const dir = tempDir(t);
  const first = await open(dir);
  const device = { id: 'device-7' };
  await first.persistence.addSubscriptions(device, [
    { topic: 'devices/device-7/commands', qos: 1 },
    { topic: 'devices/+/config', qos: 2 },
    { topic: 'broadcast/#', qos: 0 },
  ]);
  await first.persistence.addSubscriptions({ id: 'other\x00id' }, [{ topic: 'devices/device-7/commands', qos: 1 }]);
  await first.persistence.removeSubscriptions({ id: 'other\x00id' }, ['devices/device-7/commands']);
  await close(first);

  const second = await open(dir);
  t.after(() => close(second));
  const subs = await second.persistence.subscriptionsByClient(device);
  assert.deepEqual(
    [...subs].sort((a, b) => a.topic.localeCompare(b.topic)),
    [
      { topic: 'broadcast/#', qos: 0 },
      { topic: 'devices/+/config', qos: 2 },
      { topic: 'devices/device-7/commands', qos: 1 },
    ],
  );
  const matched = await second.persistence.subscriptionsByTopic('devices/device-7/config');
  assert.deepEqual(matched.map((s) => [s.clientId, s.topic, s.qos]), [['device-7', 'devices/+/config', 2]]);
  // QoS 0 subscriptions are restored for the session but never matched for queueing.
  assert.deepEqual(await second.persistence.subscriptionsByTopic('broadcast/all'), []);
  assert.deepEqual(await second.persistence.countOffline(), { subsCount: 2, clientsCount: 1 });
});

test('retained messages survive a restart; a cleared one stays cleared', async (t) => {
  const dir = tempDir(t);
  const first = await open(dir);
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  await first.persistence.storeRetained({ cmd: 'publish', topic: 'devices/d1/status', payload: binary, qos: 1, retain: true, brokerId: 'broker-1', brokerCounter: 3 });
  await first.persistence.storeRetained({ cmd: 'publish', topic: 'devices/d2/status', payload: Buffer.from('online'), qos: 0, retain: true });
  await first.persistence.storeRetained({ cmd: 'publish', topic: 'devices/d2/status', payload: Buffer.alloc(0), qos: 0, retain: true });
  await close(first);

  const second = await open(dir);
  t.after(() => close(second));
  const retained = await collect(second.persistence.createRetainedStreamCombi(['devices/+/status']));
  assert.equal(retained.length, 1);
  assert.equal(retained[0]?.['topic'], 'devices/d1/status');
  assert.equal(retained[0]?.['brokerCounter'], 3);
  assert.ok(Buffer.isBuffer(retained[0]?.['payload']));
  assert.ok(binary.equals(retained[0]?.['payload'] as Buffer), 'payload bytes round-trip exactly');
});

test('queued QoS 1 packets for an offline client survive a restart, in order', async (t) => {
  const dir = tempDir(t);
  const first = await open(dir);
  const client = { id: 'sleepy' };
  for (let n = 1; n <= 3; n++) {
    await first.persistence.outgoingEnqueueCombi([{ clientId: client.id }], {
      cmd: 'publish', topic: 'devices/sleepy/commands', payload: Buffer.from(`cmd-${n}`), qos: 1, retain: false, brokerId: 'broker-1', brokerCounter: n,
    });
  }
  // The first one was sent (messageId assigned) but not acknowledged before the restart.
  await first.persistence.outgoingUpdate(client, { brokerId: 'broker-1', brokerCounter: 1, messageId: 17 });
  await first.persistence.incomingStorePacket(client, { cmd: 'publish', topic: 'up', payload: Buffer.from('q2'), qos: 2, messageId: 5 });
  await first.persistence.putWill(client, { topic: 'devices/sleepy/status', payload: Buffer.from('offline'), qos: 1, retain: true });
  await close(first);

  const second = await open(dir, 'broker-2');
  t.after(() => close(second));
  const queued = await collect(second.persistence.outgoingStream(client));
  assert.deepEqual(queued.map((p) => String(p['payload'])), ['cmd-1', 'cmd-2', 'cmd-3']);
  assert.deepEqual(queued.map((p) => p['messageId']), [17, undefined, undefined]);

  // Enqueued after the restart: goes behind the recovered ones (the sequence counter was recovered).
  await second.persistence.outgoingEnqueue({ clientId: client.id }, {
    cmd: 'publish', topic: 'devices/sleepy/commands', payload: Buffer.from('cmd-4'), qos: 1, brokerId: 'broker-2', brokerCounter: 1,
  });
  const acked = await second.persistence.outgoingClearMessageId(client, { messageId: 17 });
  assert.equal(String(acked?.payload), 'cmd-1');
  const rest = await collect(second.persistence.outgoingStream(client));
  assert.deepEqual(rest.map((p) => String(p['payload'])), ['cmd-2', 'cmd-3', 'cmd-4']);

  // The incoming QoS 2 packet (awaiting PUBREL) and the will are there too.
  const incoming = await second.persistence.incomingGetPacket(client, { messageId: 5 });
  assert.equal(String(incoming.payload), 'q2');
  const will = await second.persistence.getWill(client);
  assert.equal(will?.brokerId, 'broker-1');
  assert.equal(String(will?.payload), 'offline');
  // broker-1 is not alive any more, so its wills are the ones to publish.
  assert.equal((await collect(second.persistence.streamWill({ 'broker-2': Date.now() }))).length, 1);
});

function nextMessage(client: MqttClient): Promise<{ topic: string; payload: Buffer }> {
  return new Promise((resolve) => client.once('message', (topic, payload) => resolve({ topic, payload })));
}

/** Resolves with CONNACK's session-present flag. */
function connected(client: MqttClient): Promise<boolean> {
  return new Promise((resolve, reject) => {
    client.once('connect', (connack) => resolve(connack.sessionPresent));
    client.once('error', reject);
  });
}

test('two QoS 2 deliveries in flight: each PUBREL replaces its own PUBLISH, and both survive a restart', async (t) => {
  const dir = tempDir(t);
  const first = await open(dir);
  const client = { id: 'meter-3' };
  for (const [counter, messageId] of [[1, 101], [2, 102]] as const) {
    await first.persistence.outgoingEnqueue({ clientId: client.id }, {
      cmd: 'publish', topic: 'devices/meter-3/config', payload: Buffer.from(`cfg-${counter}`), qos: 2, brokerId: 'broker-1', brokerCounter: counter,
    });
    await first.persistence.outgoingUpdate(client, { brokerId: 'broker-1', brokerCounter: counter, messageId });
  }
  // PUBRECs arrived for both: aedes replaces each PUBLISH by its PUBREL (no brokerId).
  await first.persistence.outgoingUpdate(client, { cmd: 'pubrel', messageId: 101 });
  await first.persistence.outgoingUpdate(client, { cmd: 'pubrel', messageId: 102 });
  await close(first);

  const second = await open(dir);
  t.after(() => close(second));
  assert.deepEqual(await collect(second.persistence.outgoingStream(client)), [
    { cmd: 'pubrel', messageId: 101 },
    { cmd: 'pubrel', messageId: 102 },
  ]);
  // PUBCOMPs clear them by messageId.
  assert.deepEqual(await second.persistence.outgoingClearMessageId(client, { messageId: 102 }), { cmd: 'pubrel', messageId: 102 });
  assert.deepEqual(await second.persistence.outgoingClearMessageId(client, { messageId: 101 }), { cmd: 'pubrel', messageId: 101 });
  assert.deepEqual(await collect(second.persistence.outgoingStream(client)), []);
});

/** One aedes broker on a TCP port, persisted in the LevelDB at `dir`. */
async function startBroker(dir: string): Promise<{ url: string; broker: Aedes; stop(): Promise<void> }> {
  const db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
  await db.open();
  const persistence = new LevelPersistence({ db: db.sublevel<string, unknown>('ses', { valueEncoding: 'json' }), sync: true });
  const broker = await Aedes.createBroker({ persistence });
  const server: Server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    async stop() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await persistence.destroy();
      await db.close();
    },
  };
}

test('aedes: a persistent session gets the QoS 1 message queued while it was offline, across a broker restart', { timeout: 15_000 }, async (t) => {
  const dir = tempDir(t);
  const first = await startBroker(dir);

  const device = await mqtt.connectAsync(first.url, { clientId: 'device-9', clean: false, reconnectPeriod: 0 });
  await device.subscribeAsync('devices/device-9/commands', { qos: 1 });
  await device.endAsync();

  const published = new Promise<void>((resolve) => {
    first.broker.on('publish', (packet) => { if (packet.topic === 'devices/device-9/commands') resolve(); });
  });
  const app = await mqtt.connectAsync(first.url, { clientId: 'app', reconnectPeriod: 0 });
  await app.publishAsync('devices/device-9/commands', 'reboot', { qos: 1 });
  await app.publishAsync('devices/device-9/name', 'boiler room', { qos: 0, retain: true });
  await app.endAsync();
  await published; // emitted after aedes has queued it for the offline session
  await first.stop();

  const second = await startBroker(dir);
  t.after(() => second.stop());
  const back = mqtt.connect(second.url, { clientId: 'device-9', clean: false, reconnectPeriod: 0 });
  const [message, sessionPresent] = await Promise.all([nextMessage(back), connected(back)]);
  assert.equal(sessionPresent, true);
  assert.equal(message.topic, 'devices/device-9/commands');
  assert.equal(message.payload.toString(), 'reboot');

  // The retained message is delivered on a new subscription after the restart.
  const retained = nextMessage(back);
  await back.subscribeAsync('devices/device-9/name', { qos: 0 });
  assert.deepEqual(await retained, { topic: 'devices/device-9/name', payload: Buffer.from('boiler room') });
  await back.endAsync();
});
