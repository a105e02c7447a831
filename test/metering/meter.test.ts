import t, { type Test } from 'tap';
import { Store } from '../../src/store/store.js';
import { GroupCommit, type BatchOp, type CommitContributor } from '../../src/store/group-commit.js';
import { Meter } from '../../src/metering/meter.js';
import type { UsageCounters } from '../../src/metering/usage.js';
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

interface Harness { dir: string; store: Store; meter: Meter; commits: GroupCommit; failing: FailingOnce; clock: { now: Date } }

async function openMeter(dir: string, clock: { now: Date }, fold?: { records: number; ms: number }): Promise<Harness> {
  const store = new Store(dir);
  await store.start();
  const meter = new Meter({ store, timeZone: 'UTC', now: () => clock.now, ...(fold ? { fold } : {}) });
  await meter.start();
  const commits = new GroupCommit(store.raw);
  commits.addContributor(meter);
  const failing = new FailingOnce();
  commits.addContributor(failing);
  return { dir, store, meter, commits, failing, clock };
}

async function open(t: Test, start: string, fold?: { records: number; ms: number }): Promise<Harness> {
  const dir = tempDir();
  const h = await openMeter(dir, { now: new Date(start) }, fold);
  t.teardown(async () => { await h.store.stop(); removeDir(dir); });
  return h;
}

/**
 * What a crash leaves: the store closes without the meter's stop (only synced batches count), and a
 * new meter starts on it, as the next gateway start would. Returns that meter's view.
 */
async function afterCrash(t: Test, h: Harness): Promise<Harness> {
  await h.store.stop();
  const again = await openMeter(h.dir, h.clock);
  t.teardown(() => again.store.stop());
  return again;
}

const rowOnDisk = (h: Harness, key: string): Promise<UsageCounters | undefined> => h.store.json<UsageCounters>('usage').get(key);

/** Two 10-byte messages at the harness's start time, then the clock moves to `later` and one 5-byte message. */
function countAcross(h: Harness, later: string): void {
  h.meter.count(DEVICE, 'in', 10);
  h.meter.count(DEVICE, 'in', 10);
  h.clock.now = new Date(later);
  h.meter.count(DEVICE, 'in', 5);
}

t.test('a batch that fails at the turn of the month loses no counts of the month that ended', async (t) => {
  const h = await open(t, '2026-01-31T23:59:00Z');
  countAcross(h, '2026-02-01T00:00:30Z');

  h.failing.armed = true;
  await t.rejects(h.commits.commit([]), 'the batch with January\'s last counts fails');
  await h.commits.commit([]);
  t.equal(h.meter.deviceMonth(DEVICE).messages_in, 1, 'the month\'s counters are February\'s only');

  const after = await afterCrash(t, h);
  t.match(await after.meter.usage('2026-01-31', '2026-02-01', DEVICE), [{ date: '2026-01-31', messages_in: 2, bytes_in: 20 }, { date: '2026-02-01', messages_in: 1, bytes_in: 5 }],
    'January\'s counts reached disk with the next batch');
  t.equal(after.meter.deviceMonth(DEVICE).messages_in, 1);
});

t.test('the month turns while a batch holding the old month\'s rows is being written, and that batch fails', async (t) => {
  const h = await open(t, '2026-03-31T23:59:59Z');
  h.meter.count(DEVICE, 'in', 7);
  h.failing.armed = true;
  // The meter's rows are in flight when the month turns and the next message is counted.
  h.failing.before = () => {
    h.clock.now = new Date('2026-04-01T00:00:01Z');
    h.meter.count(DEVICE, 'out', 3);
  };
  await t.rejects(h.commits.commit([]));
  await h.commits.commit([]);
  t.match(h.meter.deviceMonth(DEVICE), { messages_in: 0, messages_out: 1 });
  t.match(h.meter.monthUsage(), { messages: 1, bytes: 3 });

  const after = await afterCrash(t, h);
  t.match(await rowOnDisk(after, `2026-03-31!${DEVICE}`), { messages_in: 1, bytes_in: 7 }, 'March\'s row is on disk after the failed batch');
  t.match(await rowOnDisk(after, `2026-04-01!${DEVICE}`), { messages_out: 1 });
});

t.test('what a synced batch carried survives a crash, from the journal, until the next fold writes the rows', async (t) => {
  const h = await open(t, '2026-05-31T12:00:00Z');
  h.meter.count(DEVICE, 'in', 4);
  await h.commits.commit([]);
  h.meter.count(DEVICE, 'in', 6);
  await h.commits.commit([]);
  t.equal(await rowOnDisk(h, `2026-05-31!${DEVICE}`), undefined, 'not folded yet: the rows are in the journal');
  const after = await afterCrash(t, h);
  t.match(await rowOnDisk(after, `2026-05-31!${DEVICE}`), { messages_in: 2, bytes_in: 10 }, 'the start replayed the journal into the row');
  t.match(after.meter.deviceMonth(DEVICE), { messages_in: 2, bytes_in: 10 });
  t.equal((await after.store.json<unknown>('state').keys({ gte: 'meter!journal!', lt: 'meter!journal!~' }).all()).length, 0, 'and emptied it');
});

t.test('every few records a commit folds the journal into the rows; a past month then leaves memory', async (t) => {
  const h = await open(t, '2026-06-30T23:00:00Z', { records: 3, ms: 60_000 });
  for (let i = 0; i < 3; i++) {
    h.meter.count(DEVICE, 'in', 1);
    await h.commits.commit([]);
  }
  h.clock.now = new Date('2026-07-01T00:00:01Z');
  h.meter.count(DEVICE, 'in', 100);
  await h.commits.commit([]);
  t.match(await rowOnDisk(h, `2026-06-30!${DEVICE}`), { messages_in: 3 }, 'the fourth commit folded: June\'s row is written');
  t.match(await rowOnDisk(h, `2026-07-01!${DEVICE}`), { messages_in: 1, bytes_in: 100 });
  await h.meter.stop();
  t.equal((await h.store.json<unknown>('state').keys({ gte: 'meter!journal!', lt: 'meter!journal!~' }).all()).length, 0, 'folded records are deleted');
  t.match(h.meter.deviceMonth(DEVICE), { messages_in: 1, bytes_in: 100 }, 'July only');
  t.match(await h.meter.usage('2026-06-01', '2026-07-31', DEVICE), [{ date: '2026-06-30', messages_in: 3 }, { date: '2026-07-01', messages_in: 1 }]);
});

t.test('a clean stop folds everything: the rows are on disk and the journal is empty', async (t) => {
  const h = await open(t, '2026-08-10T10:00:00Z');
  h.meter.count(DEVICE, 'in', 9);
  await h.commits.commit([]);
  h.meter.count(DEVICE, 'out', 1);
  await h.meter.stop();
  t.match(await rowOnDisk(h, `2026-08-10!${DEVICE}`), { messages_in: 1, bytes_in: 9, messages_out: 1, bytes_out: 1 }, 'also what no commit had taken yet');
  t.equal((await h.store.json<unknown>('state').keys({ gte: 'meter!journal!', lt: 'meter!journal!~' }).all()).length, 0);
});

t.test('a device counted before and after midnight has a row for each day', async (t) => {
  const h = await open(t, '2026-11-26T23:59:59Z');
  countAcross(h, '2026-11-27T00:00:01Z');
  await h.commits.commit([]);
  t.equal(h.meter.deviceToday(DEVICE).messages_in, 1, 'today holds only what came after midnight');
  t.equal(h.meter.deviceMonth(DEVICE).messages_in, 3, 'the month holds all three');
  const rows = await h.meter.usage('2026-11-26', '2026-11-27', DEVICE);
  t.same(rows.map((r) => [r.date, r.messages_in]), [['2026-11-26', 2], ['2026-11-27', 1]], 'one row per day');
});

/** Stores `days` days of rows (1st of the month onwards) for `devices` devices, as a release before the totals rows would have. */
async function storedMonth(dir: string, month: string, days: number, devices: string[]): Promise<void> {
  const store = new Store(dir);
  await store.start();
  const ops = [];
  for (let d = 1; d <= days; d++) {
    for (const id of devices) ops.push({ type: 'put' as const, key: `${month}-${String(d).padStart(2, '0')}!${id}`, value: { messages_in: d, messages_out: 1, bytes_in: 10 * d, bytes_out: 2, throttled: 0, rejected: 0 } });
  }
  await store.json<UsageCounters>('usage').batch(ops);
  // As a store of format 2 left them: day rows without totals rows; the next start migrates it.
  await store.json<number>('meta').put('format_version', 2);
  await store.stop();
}

const devicesOf = (n: number): string[] => Array.from({ length: n }, (_, i) => `iot_dev_${String(i).padStart(12, '0')}`);

t.test('at start, memory holds today\'s rows and each device\'s month total, not the month\'s rows', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const devices = devicesOf(40);
  await storedMonth(dir, '2026-09', 20, devices);
  const h = await openMeter(dir, { now: new Date('2026-09-20T15:00:00Z') });
  t.teardown(() => h.store.stop());
  t.equal(h.meter.rowsHeld, 40, 'the 20th\'s row of each device (800 rows on disk)');
  // Days 1..20 of `messages_in: d`: 210 per device; the 20th's row goes on counting.
  t.match(h.meter.deviceMonth(devices[3] as string), { messages_in: 210, messages_out: 20, bytes_in: 2100, bytes_out: 40 });
  t.same(h.meter.monthUsage(), { messages: 40 * 230, bytes: 40 * 2140 });
  h.meter.count(devices[3] as string, 'in', 5);
  await h.meter.stop();
  t.match(await rowOnDisk(h, `2026-09-20!${devices[3] as string}`), { messages_in: 21, bytes_in: 205 }, 'counted on from the stored row, not from zero');
  t.match(await h.meter.usage('2026-09-01', '2026-09-30', devices[3]), Array.from({ length: 20 }, (_, i) => ({ date: `2026-09-${String(i + 1).padStart(2, '0')}` })), 'one device\'s rows of the month, read by key');
  t.equal((await h.meter.usage('2026-09-19', '2026-09-20')).length, 80, 'every device\'s rows of a range');
});

t.test('after midnight, the day before\'s rows leave memory once a fold has written them; the month totals keep them', async (t) => {
  const h = await open(t, '2026-10-05T23:59:58Z', { records: 1, ms: 60_000 });
  const [a, b] = devicesOf(2) as [string, string];
  h.meter.count(a, 'in', 10);
  h.meter.count(b, 'in', 20);
  await h.commits.commit([]);
  h.clock.now = new Date('2026-10-06T00:00:02Z');
  h.meter.count(a, 'in', 1);
  t.equal(h.meter.rowsHeld, 3, 'the 5th\'s rows stay until a fold wrote them');
  await h.commits.commit([]);
  await h.commits.commit([]);
  t.equal(h.meter.rowsHeld, 1, 'only today\'s row is left');
  t.match(h.meter.deviceMonth(a), { messages_in: 2, bytes_in: 11 });
  t.match(h.meter.deviceMonth(b), { messages_in: 1, bytes_in: 20 });
  t.match(await h.meter.usage('2026-10-05', '2026-10-06', a), [{ date: '2026-10-05', messages_in: 1 }, { date: '2026-10-06', messages_in: 1 }]);
});

t.test('a clock that steps back over midnight counts on in the latest day: the earlier day\'s stored row is not overwritten', async (t) => {
  const h = await open(t, '2026-10-07T23:59:59Z', { records: 1, ms: 60_000 });
  h.meter.count(DEVICE, 'in', 3);
  h.clock.now = new Date('2026-10-08T00:00:01Z');
  h.meter.count(DEVICE, 'in', 4);
  await h.commits.commit([]);
  await h.commits.commit([]);
  h.clock.now = new Date('2026-10-07T23:59:59Z');
  h.meter.count(DEVICE, 'in', 5);
  await h.meter.stop();
  t.match(await rowOnDisk(h, `2026-10-07!${DEVICE}`), { messages_in: 1, bytes_in: 3 });
  t.match(await rowOnDisk(h, `2026-10-08!${DEVICE}`), { messages_in: 2, bytes_in: 9 });
  t.match(h.meter.deviceMonth(DEVICE), { messages_in: 3, bytes_in: 12 });
});

t.test('a start with a clock behind the last run\'s goes on from the later day\'s stored row when the clock catches up', async (t) => {
  const h = await open(t, '2026-10-09T08:00:00Z');
  h.meter.count(DEVICE, 'in', 7);
  await h.meter.stop();
  await h.store.stop();
  // As after a reboot of a board without a real-time clock: the saved time lags by a day until NTP.
  const again = await openMeter(h.dir, { now: new Date('2026-10-08T23:00:00Z') });
  t.teardown(() => again.store.stop());
  again.meter.count(DEVICE, 'in', 1);
  again.clock.now = new Date('2026-10-09T08:30:00Z');
  again.meter.count(DEVICE, 'in', 2);
  await again.meter.stop();
  t.match(await rowOnDisk(again, `2026-10-09!${DEVICE}`), { messages_in: 2, bytes_in: 9 }, 'the 9th\'s stored count went on');
  t.match(await rowOnDisk(again, `2026-10-08!${DEVICE}`), { messages_in: 1, bytes_in: 1 });
  t.match(again.meter.deviceMonth(DEVICE), { messages_in: 3, bytes_in: 10 });
});

const totalOnDisk = (h: Harness, key: string): Promise<UsageCounters | undefined> => h.store.json<UsageCounters>('usage').get(key);

t.test('a fold writes the totals rows with the rows they sum: each device\'s month, each day\'s over every device', async (t) => {
  const h = await open(t, '2026-12-01T10:00:00Z', { records: 1, ms: 60_000 });
  const [a, b] = devicesOf(2) as [string, string];
  h.meter.count(a, 'in', 10);
  h.meter.count(b, 'out', 4);
  await h.commits.commit([]);
  h.clock.now = new Date('2026-12-02T10:00:00Z');
  h.meter.count(a, 'in', 1);
  await h.commits.commit([]);
  await h.commits.commit([]);
  t.match(await totalOnDisk(h, `~m!2026-12!${a}`), { messages_in: 2, bytes_in: 11 });
  t.match(await totalOnDisk(h, `~m!2026-12!${b}`), { messages_out: 1, bytes_out: 4 });
  t.match(await totalOnDisk(h, '~d!2026-12-01'), { messages_in: 1, bytes_in: 10, messages_out: 1, bytes_out: 4 });
  t.match(await totalOnDisk(h, '~d!2026-12-02'), { messages_in: 1, bytes_in: 1, messages_out: 0 });
  t.same((await h.meter.dailyTotals('2026-11-30', '2026-12-03')).map((d) => [d.date, d.messages_in, d.messages_out]), [['2026-12-01', 1, 1], ['2026-12-02', 1, 0]], 'one row a day, days without counts left out');
  t.equal((await h.meter.usage('2026-12-01', '2026-12-31')).length, 3, 'and the day rows stay as they were: the totals are not among them');
});

t.test('after a crash, the journal\'s replay writes the totals that the replayed rows change, summed whole', async (t) => {
  const h = await open(t, '2026-12-03T09:00:00Z', { records: 1, ms: 60_000 });
  h.meter.count(DEVICE, 'in', 5);
  await h.commits.commit([]);
  await h.commits.commit([]);
  t.match(await totalOnDisk(h, `~m!2026-12!${DEVICE}`), { messages_in: 1 }, 'the 3rd is folded');
  h.clock.now = new Date('2026-12-04T09:00:00Z');
  h.meter.count(DEVICE, 'in', 7);
  h.meter.count(DEVICE, 'in', 7);
  await h.commits.commit([]);
  t.match(await totalOnDisk(h, `~m!2026-12!${DEVICE}`), { messages_in: 1 }, 'the 4th is only in the journal');
  const after = await afterCrash(t, h);
  t.match(await totalOnDisk(after, `~m!2026-12!${DEVICE}`), { messages_in: 3, bytes_in: 19 }, 'the month total holds the stored day and the replayed one');
  t.match(await totalOnDisk(after, '~d!2026-12-04'), { messages_in: 2, bytes_in: 14 });
  t.match(after.meter.deviceMonth(DEVICE), { messages_in: 3, bytes_in: 19 });
  t.same(after.meter.monthUsage(), { messages: 3, bytes: 19 });
});

t.test('a start takes each device\'s month from its totals row, not from the month\'s day rows', async (t) => {
  const h = await open(t, '2026-12-05T09:00:00Z');
  h.meter.count(DEVICE, 'in', 5);
  await h.meter.stop();
  // A totals row that disagrees with the rows (never written so) shows which one the start read.
  await h.store.json<UsageCounters>('usage').put(`~m!2026-12!${DEVICE}`, { messages_in: 40, messages_out: 0, bytes_in: 400, bytes_out: 0, throttled: 0, rejected: 0 });
  const again = await afterCrash(t, h);
  t.match(again.meter.deviceMonth(DEVICE), { messages_in: 40, bytes_in: 400 });
  t.same(again.meter.monthUsage(), { messages: 40, bytes: 400 });
});

t.test('retention deletes the totals of the days and months it deletes the rows of', async (t) => {
  const h = await open(t, '2026-11-30T12:00:00Z', { records: 1, ms: 60_000 });
  h.meter.count(DEVICE, 'in', 1);
  await h.commits.commit([]);
  h.clock.now = new Date('2026-12-20T12:00:00Z');
  h.meter.count(DEVICE, 'in', 2);
  await h.commits.commit([]);
  await h.commits.commit([]);
  t.equal(await h.meter.prune(10), 1, 'November\'s row');
  const left = await h.store.json<UsageCounters>('usage').keys().all();
  t.same(left.sort(), [`2026-12-20!${DEVICE}`, '~d!2026-12-20', `~m!2026-12!${DEVICE}`].sort());
});

t.test('at the turn of the month, the old month\'s totals reach disk with its last rows, also through a failed batch', async (t) => {
  const h = await open(t, '2027-01-31T23:59:59Z', { records: 1, ms: 60_000 });
  h.meter.count(DEVICE, 'in', 6);
  h.failing.armed = true;
  h.failing.before = () => {
    h.clock.now = new Date('2027-02-01T00:00:01Z');
    h.meter.count(DEVICE, 'in', 2);
  };
  await t.rejects(h.commits.commit([]), 'the batch with January\'s last count fails');
  await h.commits.commit([]);
  await h.commits.commit([]);
  t.match(await totalOnDisk(h, `~m!2027-01!${DEVICE}`), { messages_in: 1, bytes_in: 6 });
  t.match(await totalOnDisk(h, '~d!2027-01-31'), { messages_in: 1, bytes_in: 6 });
  t.match(await totalOnDisk(h, `~m!2027-02!${DEVICE}`), { messages_in: 1, bytes_in: 2 });
  t.equal(h.meter.rowsHeld, 1, 'January\'s row left memory once written');
  t.match(h.meter.deviceMonth(DEVICE), { messages_in: 1, bytes_in: 2 }, 'February only');
  t.same((await h.meter.dailyTotals('2027-01-01', '2027-02-28')).map((d) => [d.date, d.messages_in]), [['2027-01-31', 1], ['2027-02-01', 1]]);
});
