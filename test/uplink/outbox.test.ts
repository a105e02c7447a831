import t from 'tap';
import { Store } from '../../src/store/store.js';
import { GroupCommit } from '../../src/store/group-commit.js';
import { createLogger } from '../../src/log.js';
import { Outbox, sendWindowOf } from '../../src/uplink/outbox.js';
import { loadConfig } from '../../src/config/load.js';
import { entriesOf } from '../../src/uplink/outbox-record.js';
import { encodeEntry } from '../../src/uplink/outbox-entry.js';
import { parseSeqKey, seqKey } from '../../src/uplink/outbox-key.js';
import type { AcceptedMessage } from '../../src/broker/ingest.js';
import { removeDir, tempDir } from '../helpers/gateway.js';
import { telemetry } from './helpers/devices.js';

const log = createLogger('silent');

interface Harness { store: Store; commits: GroupCommit; outbox: Outbox; close(): Promise<void> }

/**
 * A store and an outbox as the gateway wires them: the broker's part is `accept` (stage + synced group
 * commit). `sendWindow` defaults to the built-in settings' (no gateway.yaml in `dir`).
 */
async function open(dir: string, caps: { maxBytes?: number; maxAgeHours?: number } = {}, sendWindow = sendWindowOf(loadConfig({ env: {}, cwd: dir }).cloud)): Promise<Harness> {
  const store = new Store(dir);
  await store.start();
  const commits = new GroupCommit(store.raw);
  const outbox = new Outbox({ store, commits, log, maxBytes: caps.maxBytes ?? 0, maxAgeHours: caps.maxAgeHours ?? 0, sendWindow });
  await outbox.start();
  return { store, commits, outbox, async close() { await outbox.stop(); await store.stop(); } };
}

function message(deviceId: string, n: number, receivedAt = Date.now()): AcceptedMessage {
  return { deviceId, topic: `devices/${deviceId}/telemetry`, payload: telemetry(n), qos: 1, receivedAt };
}

/** Accepts messages the way the broker's intake does: stage synchronously, then one synced commit each. */
async function accept(h: Harness, msgs: AcceptedMessage[]): Promise<void> {
  await Promise.all(msgs.map((m) => { h.outbox.stage(m); return h.commits.commit([]); }));
}

const devices = ['iot_dev_aaaaaaaaaaaa', 'iot_dev_bbbbbbbbbbbb', 'iot_dev_cccccccccccc'];
const load = (count: number, at?: (i: number) => number): AcceptedMessage[] =>
  Array.from({ length: count }, (_, i) => message(devices[i % devices.length] as string, i, at?.(i)));

t.test('entries are kept in sequence order with per-device numbers, and accounted incrementally', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const h = await open(dir);
  await accept(h, load(30));
  t.equal(h.outbox.count, 30);
  const entries = await h.outbox.read(0, 100);
  t.same(entries.map((e) => e.seq), Array.from({ length: 30 }, (_, i) => i + 1), 'outbox seq 1..30');
  t.equal(h.outbox.bytes, entries.reduce((a, e) => a + e.size, 0), 'bytes = sum of key + value sizes');
  t.same(entries.filter((e) => e.deviceId === devices[1]).map((e) => e.deviceSeq), Array.from({ length: 10 }, (_, i) => i + 1), 'per-device seq 1..10');
  t.match(JSON.parse((entries[4] as { payload: Buffer }).payload.toString()), { n: 4 }, 'the payload as the device sent it');

  t.equal(h.outbox.remove(entries.slice(0, 10)), 10, 'acknowledged: removed');
  t.equal(h.outbox.count, 20);
  t.equal(h.outbox.head, 11);
  t.equal(h.outbox.remove(entries.slice(0, 10)), 0, 'removing twice removes nothing');
  t.same((await h.outbox.read(0, 100)).map((e) => e.seq)[0], 11, 'reads start at the head');
  await h.outbox.settled();
  t.equal(h.outbox.bytes, (await h.outbox.read(0, 100)).reduce((a, e) => a + e.size, 0));
  await h.close();
});

t.test('what the send window holds is read from memory, older entries from LevelDB', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  // 2 batches in flight of 10: the outbox keeps the newest (2 + 3) × 10 = 50 entries in memory.
  const h = await open(dir, {}, { inflight: 2, batchMessages: 10, batchBytes: 1_000_000 });
  await accept(h, load(120));
  // An entry kept in memory is handed out as the same object on every read; one read back from
  // LevelDB is decoded anew each time.
  const newest = await h.outbox.read(71, 50);
  t.same(newest.map((e) => e.seq), Array.from({ length: 50 }, (_, i) => i + 71));
  t.ok((await h.outbox.read(71, 50)).every((e, i) => e === newest[i]), 'the newest 50: from memory');
  const older = await h.outbox.read(1, 70);
  const again = await h.outbox.read(1, 70);
  t.same(again, older, 'older entries read the same');
  t.ok(again.every((e, i) => e !== older[i]), 'and come from LevelDB');
  t.match(JSON.parse((older[69] as { payload: Buffer }).payload.toString()), { n: 69 }, 'with their payloads');
  await h.close();
});

t.test('numbering stays monotonic across restarts, also when the outbox was emptied', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  let h = await open(dir);
  await accept(h, load(9));
  h.outbox.remove(await h.outbox.read(0, 100));
  t.equal(h.outbox.count, 0);
  const id = h.outbox.outboxId;
  t.match(id, /^[0-9a-f]{16}$/);
  await h.close();

  h = await open(dir);
  t.equal(h.outbox.outboxId, id, 'the outbox id is kept');
  t.equal(h.outbox.count, 0);
  await accept(h, load(3));
  const entries = await h.outbox.read(0, 10);
  t.same(entries.map((e) => e.seq), [10, 11, 12], 'outbox seq continues after the removed ones (batch ids never repeat)');
  t.same(entries.map((e) => e.deviceSeq), [4, 4, 4], 'per-device seq continues');
  await h.close();
});

t.test('after a restart the backlog is counted in the background, exactly, while acks go on', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  let h = await open(dir);
  for (let i = 0; i < 5; i++) await accept(h, load(1000));
  const bytes = h.outbox.bytes;
  await h.close();

  h = await open(dir);
  t.equal(h.outbox.exact, false, 'start does not wait for the count');
  const first = await h.outbox.read(0, 1500);
  h.outbox.remove(first);
  await accept(h, load(10));
  await h.outbox.settled();
  t.equal(h.outbox.exact, true);
  t.equal(h.outbox.count, 5000 - 1500 + 10);
  const all = await h.outbox.read(0, 10_000);
  t.equal(all.length, h.outbox.count);
  t.equal(h.outbox.bytes, all.reduce((a, e) => a + e.size, 0), 'bytes exact');
  t.ok(h.outbox.bytes < bytes);
  await h.close();
});

t.test('past the byte cap the oldest entries go, counted per device, and the outbox stays within the cap', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const cap = 50_000;
  const h = await open(dir, { maxBytes: cap });
  let maxSeen = 0;
  for (let round = 0; round < 20; round++) {
    await accept(h, load(100));
    await h.outbox.settled();
    maxSeen = Math.max(maxSeen, h.outbox.bytes);
  }
  t.ok(maxSeen <= cap, `bytes stayed within the cap once each drop pass ran (max ${maxSeen} <= ${cap})`);
  const left = await h.outbox.read(0, 10_000);
  t.equal(left.length, h.outbox.count);
  t.equal(h.outbox.bytes, left.reduce((a, e) => a + e.size, 0));
  t.equal(h.outbox.droppedTotal + h.outbox.count, 2000, 'every entry is either still there or counted as dropped');
  t.same(left.map((e) => e.seq), Array.from({ length: left.length }, (_, i) => 2001 - left.length + i), 'what is left is the newest, contiguous');
  const byDevice = h.outbox.droppedByDevice();
  t.equal(Object.values(byDevice).reduce((a, b) => a + b, 0), h.outbox.droppedTotal);
  t.ok(devices.every((d) => (byDevice[d] ?? 0) > 0), 'per device');
  await h.close();

  const again = await open(dir, { maxBytes: cap });
  t.same(again.outbox.droppedByDevice(), byDevice, 'drop counters are persisted');
  await again.close();
});

t.test('the age cap drops what is older, counted as dropped', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const h = await open(dir, { maxAgeHours: 1 });
  const now = Date.now();
  await accept(h, load(50, (i) => (i < 20 ? now - 2 * 3_600_000 : now - 60_000)));
  t.ok(h.outbox.oldestAgeSeconds() > 7000);
  t.equal(await h.outbox.prune(), 20);
  t.equal(h.outbox.count, 30);
  t.equal(h.outbox.droppedTotal, 20);
  await h.outbox.settled();
  t.ok(h.outbox.oldestAgeSeconds() < 120, 'the oldest age follows the head');
  t.equal(await h.outbox.prune(), 0, 'nothing more to prune');
  await h.close();
});

t.test('a failed commit leaves no trace in the accounting', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const h = await open(dir);
  await accept(h, load(5));
  h.outbox.stage(message('iot_dev_aaaaaaaaaaaa', 99));
  t.equal(h.outbox.count, 6, 'a staged entry is counted at once');
  // A put LevelDB refuses (no key) makes the whole synced batch fail, as a full disk would.
  await t.rejects(h.commits.commit([{ type: 'put', key: undefined as unknown as string, value: 1 }]));
  t.equal(h.outbox.count, 5);
  t.equal(h.outbox.bytes, (await h.outbox.read(0, 10)).reduce((a, e) => a + e.size, 0));
  await h.close();
});

t.test('a failed group commit leaves a gap: its entries are never read, from memory or from disk, and numbering goes on', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const h = await open(dir);
  await accept(h, load(3));
  const lost = [message('iot_dev_aaaaaaaaaaaa', 100), message('iot_dev_bbbbbbbbbbbb', 101)];
  for (const m of lost) h.outbox.stage(m);
  // A put LevelDB refuses (no key) makes the whole synced batch fail, as a full disk would.
  await t.rejects(h.commits.commit([{ type: 'put', key: undefined as unknown as string, value: 1 }]));
  await accept(h, [message('iot_dev_cccccccccccc', 102)]);
  t.equal(h.outbox.committedUpTo, 6, 'everything up to the last staged entry is settled');
  const fromMemory = await h.outbox.read(0, 100);
  t.same(fromMemory.map((e) => e.seq), [1, 2, 3, 6], 'entries 4 and 5 are a gap');
  t.equal(h.outbox.count, 4);
  await h.close();

  const again = await open(dir);
  const fromDisk = await again.outbox.read(0, 100);
  t.same(fromDisk.map((e) => e.seq), [1, 2, 3, 6], 'the same after a restart, read from LevelDB');
  t.same(fromDisk.map((e) => e.deviceSeq), fromMemory.map((e) => e.deviceSeq), 'with the same per-device numbers');
  await accept(again, [message('iot_dev_aaaaaaaaaaaa', 103)]);
  const [last] = (await again.outbox.read(7, 1));
  t.equal(last?.seq, 7, 'numbering goes on after the gap');
  t.ok((last?.deviceSeq ?? 0) > (fromDisk[0]?.deviceSeq ?? 0), 'the device\'s own numbering never goes back');
  await again.close();
});

/** The outbox's records on disk: [first sequence number, entries in the record]. */
async function records(h: Harness): Promise<Array<[number, number]>> {
  const out: Array<[number, number]> = [];
  for await (const [key, value] of h.store.binary('outbox').iterator()) out.push([parseSeqKey(key), entriesOf(value).length]);
  return out;
}

t.test('one LevelDB record per group commit, holding its entries in order; records go once the head has passed them', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const h = await open(dir);
  await accept(h, load(40));
  await accept(h, load(10));
  t.same(await records(h), [[1, 40], [41, 10]], 'two commits, two records');
  const all = await h.outbox.read(0, 100);
  t.same(all.map((e) => e.seq), Array.from({ length: 50 }, (_, i) => i + 1));

  h.outbox.remove(all.slice(0, 25));
  await h.outbox.settled();
  t.same(await records(h), [[1, 40], [41, 10]], 'the first record still holds live entries: it stays');
  h.outbox.remove(all.slice(25, 45));
  await h.outbox.settled();
  t.same(await records(h), [[41, 10]], 'once the head is in the second record, the first goes');
  await h.close();

  // After a restart in the middle of a record, what was removed stays removed.
  const again = await open(dir);
  t.equal(again.outbox.head, 46, 'the head is where it was, inside the record');
  await again.outbox.settled();
  t.equal(again.outbox.count, 5, 'the background count takes only the live entries');
  t.same((await again.outbox.read(0, 100)).map((e) => e.seq), [46, 47, 48, 49, 50]);
  await accept(again, load(1));
  t.same(await records(again), [[41, 10], [51, 1]], 'numbering goes on after the last record');
  await again.close();
});

t.test('a store written before records (one bare entry per key) is read as it is and emptied as usual', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const store = new Store(dir);
  await store.start();
  const old = store.binary('outbox');
  const msgs = load(6);
  await old.batch(msgs.map((m, i) => ({ type: 'put' as const, key: seqKey(i + 1), value: encodeEntry({ ...m, deviceSeq: i + 1 }) })));
  await store.stop();

  const h = await open(dir);
  await h.outbox.settled();
  t.equal(h.outbox.count, 6);
  t.equal(h.outbox.head, 1);
  const entries = await h.outbox.read(0, 100);
  t.same(entries.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
  t.same(entries.map((e) => JSON.parse(e.payload.toString()).n), [0, 1, 2, 3, 4, 5], 'the payloads as stored');
  await accept(h, load(2));
  t.same(await records(h), [[1, 1], [2, 1], [3, 1], [4, 1], [5, 1], [6, 1], [7, 2]], 'new entries go in a record after them');
  h.outbox.remove(await h.outbox.read(0, 7));
  await h.outbox.settled();
  t.same(await records(h), [[7, 2]], 'the old keys are deleted like records');
  t.same((await h.outbox.read(0, 100)).map((e) => e.seq), [8]);
  await h.close();
});

t.test('per-device numbers are reserved 1,000 at a time: exact after a clean stop, never back after a crash', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const device = devices[0] as string;
  const counter = (h: Harness): Promise<unknown> => h.store.json<unknown>('state').get(`uplink!seq!${device}`);
  let h = await open(dir);
  await accept(h, [message(device, 1), message(device, 2), message(device, 3)]);
  t.equal(await counter(h), 1000, 'the first entry reserved 1..1000, in its own synced batch');
  await accept(h, [message(device, 4)]);
  t.equal(await counter(h), 1000, 'later commits do not write the counter again');
  await h.close();
  h = await open(dir);
  t.equal(await counter(h), 4, 'a clean stop wrote the exact number');
  await accept(h, [message(device, 5)]);
  t.same((await h.outbox.read(0, 100)).map((e) => e.deviceSeq), [1, 2, 3, 4, 5], 'and numbering goes on without a jump');
  await h.outbox.settled();
  // No clean stop: the store closes as after kill -9 (the synced batches are what is on disk).
  await h.store.stop();

  h = await open(dir);
  await accept(h, [message(device, 6)]);
  const after = (await h.outbox.read(0, 100)).map((e) => e.deviceSeq);
  t.same(after.slice(0, 5), [1, 2, 3, 4, 5]);
  t.equal(after[5], 1005, 'after a crash the device goes on after its reservation (5 reserved 5..1004)');
  await h.close();
});
