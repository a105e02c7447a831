import t, { type Test } from 'tap';
import type { AcceptedMessage } from '../../src/broker/ingest.js';
import { Store } from '../../src/store/store.js';
import { GroupCommit } from '../../src/store/group-commit.js';
import { createLogger } from '../../src/log.js';
import { Outbox } from '../../src/uplink/outbox.js';
import { Batcher, type BatcherOptions } from '../../src/uplink/batcher.js';
import type { Link } from '../../src/uplink/bridge.js';
import { removeDir, tempDir } from '../helpers/gateway.js';
import { decodeBatch } from './helpers/decode.js';
import { telemetry } from './helpers/devices.js';

const log = createLogger('silent');

/** A connection whose PUBACKs the test hands out itself, in any order. */
class FakeLink {
  up = true;
  /** Acknowledge every publish at once (a cloud that keeps up). */
  autoAck = false;
  readonly sent: Array<{ topic: string; payload: Buffer; ack: () => void; fail: (e: Error) => void }> = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  publish(topic: string, payload: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sent.push({ topic, payload, ack: resolve, fail: reject });
      if (this.autoAck) setImmediate(resolve);
      for (const w of [...this.waiters]) if (this.sent.length >= w.n) { this.waiters.splice(this.waiters.indexOf(w), 1); w.resolve(); }
    });
  }
  destroy(): void { this.up = false; }
  /** Resolves once `n` publishes have been made on this link. */
  published(n: number): Promise<void> {
    return this.sent.length >= n ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
  batchIds(): string[] { return this.sent.map((s) => decodeBatch(s.payload).batch_id); }
}

interface Setup { outbox: Outbox; commits: GroupCommit; batcher: Batcher; accept: (n: number, receivedAt?: number) => Promise<void>; acceptOne: (m: AcceptedMessage) => Promise<void> }

async function setup(t: Test, opts: Partial<Omit<BatcherOptions, 'outbox'>> = {}): Promise<Setup> {
  const dir = tempDir();
  const store = new Store(dir);
  await store.start();
  const commits = new GroupCommit(store.raw);
  const settings: Omit<BatcherOptions, 'outbox'> = {
    log, mode: 'batch', gzip: false, gatewayId: 'gw', batchTopic: 'devices/gw/telemetry',
    maxMessages: 10, maxPacketBytes: 100_000, maxAgeMs: 3_600_000, inflight: 3, rateLimit: 0, ...opts,
  };
  // Wired as the gateway wires them: the outbox keeps in memory what this batcher's window needs.
  const sendWindow = { inflight: settings.inflight, batchMessages: settings.maxMessages, batchBytes: settings.maxPacketBytes };
  const outbox = new Outbox({ store, commits, log, maxBytes: 0, maxAgeHours: 0, sendWindow });
  await outbox.start();
  const batcher = new Batcher({ ...settings, outbox });
  t.teardown(async () => { batcher.stop(); await outbox.stop(); await store.stop(); removeDir(dir); });
  let n = 0;
  const accept = async (count: number, receivedAt = Date.now()): Promise<void> => {
    await Promise.all(Array.from({ length: count }, () => { outbox.stage({ deviceId: 'iot_dev_aaaaaaaaaaaa', topic: 'devices/iot_dev_aaaaaaaaaaaa/telemetry', payload: telemetry(n++), qos: 1, receivedAt }); return commits.commit([]); }));
  };
  return { outbox, commits, batcher, accept, acceptOne: (m) => { outbox.stage(m); return commits.commit([]); } };
}

const removed = (outbox: Outbox, count: number): Promise<void> => new Promise((resolve) => {
  if (outbox.count === count) { resolve(); return; }
  const off = outbox.events.on('removed', () => { if (outbox.count === count) { off(); resolve(); } });
});

t.test('full batches go at once; at most `inflight` await their PUBACK', async (t) => {
  const { outbox, batcher, accept } = await setup(t);
  await accept(100);
  const link = new FakeLink();
  batcher.online(link as unknown as Link);
  await link.published(3);
  await new Promise((r) => setImmediate(r));
  t.equal(link.sent.length, 3, 'three in flight, no more');
  t.same(link.batchIds(), ['gw:0000000000000001', 'gw:000000000000000b', 'gw:0000000000000015']);
  link.sent[0]?.ack();
  await link.published(4);
  t.equal(batcher.inflightCount, 3, 'an ack makes room for the next');
  await removed(outbox, 90);
  t.equal(outbox.head, 11);
});

t.test('an overtaking PUBACK waits for the earlier one; a reconnect resends from the oldest unacknowledged entry', async (t) => {
  const { outbox, batcher, accept } = await setup(t);
  await accept(30);
  const first = new FakeLink();
  batcher.online(first as unknown as Link);
  await first.published(3);
  first.sent[1]?.ack();
  first.sent[2]?.ack();
  await new Promise((r) => setImmediate(r));
  t.equal(outbox.count, 30, 'batches 2 and 3 acknowledged, but batch 1 is not: nothing leaves yet');
  batcher.offline();
  const second = new FakeLink();
  batcher.online(second as unknown as Link);
  await second.published(3);
  t.same(second.batchIds(), first.batchIds(), 'the same batches again, same ids');
  second.sent[0]?.ack();
  await removed(outbox, 20);
  for (const s of second.sent.slice(1)) s.ack();
  await removed(outbox, 0);
  t.pass('all acknowledged in order, all removed');
});

t.test('a partial batch waits for more or for its age', async (t) => {
  const { outbox, batcher, accept } = await setup(t, { maxAgeMs: 60_000 });
  const link = new FakeLink();
  batcher.online(link as unknown as Link);
  await accept(4);
  await accept(5);
  t.equal(link.sent.length, 0, '9 fresh messages: below the count, younger than the age');
  await accept(1);
  await link.published(1);
  t.equal(decodeBatch(link.sent[0]?.payload ?? Buffer.alloc(0)).messages.length, 10, 'the tenth completes a batch');
  await accept(2, Date.now() - 61_000);
  await link.published(2);
  t.equal(decodeBatch(link.sent[1]?.payload ?? Buffer.alloc(0)).messages.length, 2, 'old enough: a partial batch leaves');
  void outbox;
});

t.test('a batch leaves once it is worth sending, and grows up to its cap while the uplink is held back', async (t) => {
  const { batcher, accept } = await setup(t, { readyMessages: 4, maxMessages: 10, inflight: 1, maxAgeMs: 60_000 });
  const link = new FakeLink();
  batcher.online(link as unknown as Link);
  await accept(3);
  t.equal(link.sent.length, 0, '3 fresh messages: not yet');
  await accept(1);
  await link.published(1);
  t.equal(decodeBatch(link.sent[0]?.payload ?? Buffer.alloc(0)).messages.length, 4, 'the fourth makes a batch worth sending');
  // The one publish allowed in flight awaits its PUBACK meanwhile.
  await accept(25);
  link.sent[0]?.ack();
  await link.published(2);
  t.equal(decodeBatch(link.sent[1]?.payload ?? Buffer.alloc(0)).messages.length, 10, 'what waited goes in batches of the cap');
  link.sent[1]?.ack();
  await link.published(3);
  link.sent[2]?.ack();
  await link.published(4);
  t.same(link.sent.map((s) => decodeBatch(s.payload).messages.length), [4, 10, 10, 5], 'the rest, down to a batch worth sending');
});

t.test('an entry too large for any publish is dropped in its turn, counted, and sending goes on', async (t) => {
  const { outbox, batcher, accept, acceptOne } = await setup(t, { maxPacketBytes: 600, maxAgeMs: 0 });
  await accept(2);
  await acceptOne({ deviceId: 'iot_dev_aaaaaaaaaaaa', topic: 'devices/iot_dev_aaaaaaaaaaaa/telemetry', payload: Buffer.alloc(2000, 0x41), qos: 1, receivedAt: Date.now() });
  await accept(2);
  const link = new FakeLink();
  link.autoAck = true;
  batcher.online(link as unknown as Link);
  await removed(outbox, 0);
  t.equal(outbox.droppedTotal, 1, 'one dropped (too_large)');
  t.same(link.sent.flatMap((s) => decodeBatch(s.payload).messages.map((m) => m.seq)), [1, 2, 4, 5], 'the others, in order');
});

t.test('a failed commit inside a staged batch: the rest goes when its age is due, with no message after it', async (t) => {
  const { outbox, commits, batcher, accept } = await setup(t, { maxAgeMs: 1_500 });
  const link = new FakeLink();
  link.autoAck = true;
  batcher.online(link as unknown as Link);
  await accept(4);
  const lost: AcceptedMessage[] = [5, 6, 7].map((n) => ({ deviceId: 'iot_dev_aaaaaaaaaaaa', topic: 'devices/iot_dev_aaaaaaaaaaaa/telemetry', payload: telemetry(1000 + n), qos: 1, receivedAt: Date.now() }));
  for (const m of lost) outbox.stage(m);
  // LevelDB refuses a put without a key: the whole synced batch fails, as on a full disk.
  await t.rejects(commits.commit([{ type: 'put', key: undefined as unknown as string, value: 1 }]));
  await accept(3);
  // Ten staged (a whole batch), seven readable, then silence.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'stuck'>((resolve) => { timer = setTimeout(() => resolve('stuck'), 10_000); });
  const outcome = await Promise.race([link.published(1).then(() => 'sent' as const), deadline]);
  clearTimeout(timer);
  t.equal(outcome, 'sent', 'the batch went without another message');
  t.equal(decodeBatch(link.sent[0]?.payload as Buffer).messages.length, 7, 'the seven stored entries, without the gap');
  await removed(outbox, 0);
});
