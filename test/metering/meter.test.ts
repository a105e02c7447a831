import t, { type Test } from 'tap';
import { Store } from '../../src/store/store.js';
import { GroupCommit, type BatchOp, type CommitContributor } from '../../src/store/group-commit.js';
import { Meter } from '../../src/metering/meter.js';
import { removeDir, tempDir } from '../helpers/gateway.js';

const DEVICE = 'iot_dev_aaaaaaaaaaaa';

/**
 * A batch that LevelDB refuses: an operation without a key makes the whole synced batch fail, as a
 * failed write would (a full disk is exercised end to end on a real tmpfs elsewhere; here only
 * the meter's side of a failed group commit matters). `before` runs while the batch is being put
 * together, i.e. after the meter handed over its rows and before the batch fails.
 */
class FailingOnce implements CommitContributor {
  armed = false;
  before: (() => void) | undefined;
  pendingOps(): BatchOp[] {
    if (!this.armed) return [];
    this.armed = false;
    this.before?.();
    return [{ type: 'put', key: null, value: 'x' } as unknown as BatchOp];
  }
  commitFailed(): void {}
}

async function open(t: Test, start: string): Promise<{ meter: Meter; commits: GroupCommit; failing: FailingOnce; store: Store; clock: { now: Date } }> {
  const dir = tempDir();
  const store = new Store(dir);
  await store.start();
  const clock = { now: new Date(start) };
  const meter = new Meter({ store, timeZone: 'UTC', now: () => clock.now });
  await meter.start();
  const commits = new GroupCommit(store.raw);
  commits.addContributor(meter);
  const failing = new FailingOnce();
  commits.addContributor(failing);
  t.teardown(async () => { await store.stop(); removeDir(dir); });
  return { meter, commits, failing, store, clock };
}

t.test('a batch that fails at the turn of the month loses no counts of the month that ended', async (t) => {
  const { meter, commits, failing, store, clock } = await open(t, '2026-01-31T23:59:00Z');
  meter.count(DEVICE, 'in', 10);
  meter.count(DEVICE, 'in', 10);
  clock.now = new Date('2026-02-01T00:00:30Z');
  meter.count(DEVICE, 'in', 5);

  failing.armed = true;
  await t.rejects(commits.commit([]), 'the batch with January\'s last counts fails');
  await commits.commit([]);

  const rows = await meter.usage('2026-01-31', '2026-02-01', DEVICE);
  t.match(rows, [{ date: '2026-01-31', messages_in: 2, bytes_in: 20 }, { date: '2026-02-01', messages_in: 1, bytes_in: 5 }]);
  const onDisk = await store.json<{ messages_in: number }>('usage').get(`2026-01-31!${DEVICE}`);
  t.equal(onDisk?.messages_in, 2, 'January\'s row reached disk with the next batch');
  t.equal(meter.deviceMonth(DEVICE).messages_in, 1, 'the month\'s counters are February\'s only');
});

t.test('the month turns while a batch holding the old month\'s rows is being written, and that batch fails', async (t) => {
  const { meter, commits, failing, store, clock } = await open(t, '2026-03-31T23:59:59Z');
  meter.count(DEVICE, 'in', 7);
  failing.armed = true;
  // The meter's rows are in flight when the month turns and the next message is counted.
  failing.before = () => {
    clock.now = new Date('2026-04-01T00:00:01Z');
    meter.count(DEVICE, 'out', 3);
  };
  await t.rejects(commits.commit([]));
  await commits.commit([]);

  const march = await store.json<{ messages_in: number; bytes_in: number }>('usage').get(`2026-03-31!${DEVICE}`);
  t.match(march, { messages_in: 1, bytes_in: 7 }, 'March\'s row is written after the failed batch');
  const april = await store.json<{ messages_out: number }>('usage').get(`2026-04-01!${DEVICE}`);
  t.equal(april?.messages_out, 1);
  t.match(meter.deviceMonth(DEVICE), { messages_in: 0, messages_out: 1 });
  t.match(meter.monthUsage(), { messages: 1, bytes: 3 });
});

t.test('counts written in a synced batch are on disk; a row of the past month leaves memory once written', async (t) => {
  const { meter, commits, store, clock } = await open(t, '2026-05-31T12:00:00Z');
  meter.count(DEVICE, 'in', 4);
  clock.now = new Date('2026-06-01T00:00:00Z');
  meter.count(DEVICE, 'in', 6);
  await commits.commit([]);
  t.match(await store.json<{ bytes_in: number }>('usage').get(`2026-05-31!${DEVICE}`), { bytes_in: 4 });
  t.match(await store.json<{ bytes_in: number }>('usage').get(`2026-06-01!${DEVICE}`), { bytes_in: 6 });
  t.match(meter.deviceMonth(DEVICE), { messages_in: 1, bytes_in: 6 });
  // The past month's row went from memory: a later count of the same day key would start from zero,
  // but reading usage still finds May on disk.
  t.match(await meter.usage('2026-05-01', '2026-06-30', DEVICE), [{ date: '2026-05-31', bytes_in: 4 }, { date: '2026-06-01', bytes_in: 6 }]);
});
