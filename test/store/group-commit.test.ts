import t, { type Test } from 'tap';
import { Level } from 'level';
import { GroupCommit, type BatchOp, type CommitContributor } from '../../src/store/group-commit.js';
import { removeDir, tempDir } from '../helpers/gateway.js';

async function openDb(t: Test): Promise<Level<string, unknown>> {
  const dir = tempDir();
  const db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
  await db.open();
  t.teardown(async () => { await db.close(); removeDir(dir); });
  return db;
}

const put = (key: string): BatchOp => ({ type: 'put', key, value: key });

/**
 * A commitSoon() caller that must hear of failures, made the way the intake is: a contributor that
 * counts its calls per batch and is told once when a batch holding them fails.
 */
class SoftCaller implements CommitContributor {
  readonly failures: Array<{ err: unknown; calls: number }> = [];
  private calls = 0;
  private inBatch = 0;

  constructor(private readonly commits: GroupCommit) { commits.addContributor(this); }

  soon(ops: BatchOp[]): void {
    this.commits.commitSoon(ops);
    this.calls += 1;
  }

  pendingOps(): BatchOp[] {
    this.inBatch = this.calls;
    this.calls = 0;
    return [];
  }

  committed(): void { this.inBatch = 0; }

  commitFailed(err: unknown): void {
    if (this.inBatch > 0) this.failures.push({ err, calls: this.inBatch });
    this.inBatch = 0;
  }
}

t.test('commit() resolves once its operations are on disk, many callers in few batches', async (t) => {
  const db = await openDb(t);
  const commits = new GroupCommit(db);
  await Promise.all(Array.from({ length: 100 }, (_, i) => commits.commit([put(`k${i}`)])));
  t.equal((await db.keys().all()).length, 100, 'all 100 written');
  t.ok(commits.counters.batches < 100, `grouped into ${commits.counters.batches} batches`);
});

t.test('commitSoon(): written within the delay without any waited-for commit', async (t) => {
  const db = await openDb(t);
  const commits = new GroupCommit(db, 30);
  const started = performance.now();
  const soft = new SoftCaller(commits);
  for (let i = 0; i < 50; i++) soft.soon([put(`q${i}`)]);
  t.equal(commits.counters.batches, 0, 'nothing written at once');
  while ((await db.keys().all()).length < 50) await new Promise((resolve) => setTimeout(resolve, 5));
  t.ok(performance.now() - started >= 25, 'it waited for the delay');
  t.equal(commits.counters.batches, 1, 'all 50 in one batch');
  t.same(soft.failures, [], 'no failure expected');
});

t.test('commitSoon() operations ride along with the next waited-for commit', async (t) => {
  const db = await openDb(t);
  const commits = new GroupCommit(db, 60_000);
  const soft = new SoftCaller(commits);
  soft.soon([put('soft')]);
  await commits.commit([put('hard')]);
  t.same((await db.keys().all()).sort(), ['hard', 'soft'], 'both written by the one commit');
  await commits.flush();
  t.equal(commits.counters.batches, 1, 'a flush with nothing pending writes nothing');
  t.same(soft.failures, [], 'no failure expected');
});

t.test('flush() writes what commitSoon() queued', async (t) => {
  const db = await openDb(t);
  const commits = new GroupCommit(db, 60_000);
  const soft = new SoftCaller(commits);
  soft.soon([put('a'), put('b')]);
  await commits.flush();
  t.same((await db.keys().all()).sort(), ['a', 'b']);
  t.same(soft.failures, [], 'no failure expected');
});

t.test('a failed batch rejects commit() and tells commitSoon() callers', async (t) => {
  const db = await openDb(t);
  const commits = new GroupCommit(db, 60_000);
  const soft = new SoftCaller(commits);
  const failures = soft.failures;
  soft.soon([put('soft')]);
  soft.soon([put('soft 2')]);
  // A put without a key is refused by LevelDB: the whole batch fails.
  await t.rejects(commits.commit([{ type: 'put', key: undefined as unknown as string, value: 1 }]));
  t.equal(failures.length, 1, 'the commitSoon() caller heard of it once');
  t.equal(failures[0]?.calls, 2, 'with the number of its calls in that batch');
  t.ok(failures[0]?.err instanceof Error, 'and the error');
  t.same(await db.keys().all(), [], 'nothing of the batch written');
});

t.test('synced batches are paced: a steady stream shares one batch per interval, a lone commit is not held', async (t) => {
  const db = await openDb(t);
  const intervalMs = 300; // large, so that "at once" and "after the interval" cannot be confused
  const commits = new GroupCommit(db, 30, intervalMs);
  const t0 = performance.now();
  await commits.commit([put('first')]);
  t.ok(performance.now() - t0 < intervalMs, 'the first commit after a quiet spell starts at once');
  const stream = Array.from({ length: 20 }, (_, i) => commits.commit([put(`s${i}`)]));
  await Promise.all(stream);
  t.ok(performance.now() - t0 >= intervalMs, 'the next batch started no sooner than the interval after the first');
  t.equal(commits.counters.batches, 2, 'the 20 commits that came meanwhile share one batch');
  t.equal((await db.keys().all()).length, 21);
  // A quiet spell longer than the interval (this wait is the condition under test, not a sync).
  await new Promise((resolve) => setTimeout(resolve, intervalMs + 50));
  const t1 = performance.now();
  await commits.commit([put('after a pause')]);
  t.ok(performance.now() - t1 < intervalMs, 'after a quiet spell a commit is not held back');
});

t.test('join(): a listener hears once per batch, in batch order, whatever it enlisted', async (t) => {
  const db = await openDb(t);
  const commits = new GroupCommit(db, 60_000, 50);
  const heard: string[] = [];
  const listener = { batchCommitted: (n: number) => heard.push(`ok ${n}`), batchFailed: (n: number) => heard.push(`failed ${n}`) };
  const first = commits.join([put('a')], listener);
  const again = commits.join([put('b')], listener);
  t.equal(again, first, 'two joins before the batch starts are one batch');
  const sharedPromise = commits.commit([put('c')]);
  t.equal(commits.commit([]), sharedPromise, 'commit() callers of one batch share its promise');
  await sharedPromise;
  t.same(heard, [`ok ${first}`], 'told once');
  const second = commits.join([{ type: 'put', key: undefined as unknown as string, value: 1 }], listener);
  t.equal(second, first + 1, 'the next batch has the next number');
  await t.rejects(commits.commit([]), 'that batch fails');
  t.same(heard, [`ok ${first}`, `failed ${second}`]);
  t.same((await db.keys().all()).sort(), ['a', 'b', 'c'], 'the first batch was written, nothing of the failed one');
});

t.test('a listener that throws does not stop the commit loop; its error surfaces uncaught', async (t) => {
  const db = await openDb(t);
  const commits = new GroupCommit(db, 60_000, 0);
  const surfaced = new Promise<unknown>((resolve) => {
    // Take the one uncaught exception this test causes before tap sees it.
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.once('uncaughtException', (err) => {
      for (const l of listeners) process.on('uncaughtException', l);
      resolve(err);
    });
  });
  const heard: number[] = [];
  commits.join([put('x')], { batchCommitted: () => { throw new Error('listener bug'); }, batchFailed: () => undefined });
  const other = commits.join([], { batchCommitted: (n) => heard.push(n), batchFailed: () => undefined });
  await commits.commit([]);
  t.same(heard, [other], 'the other listener of that batch was told');
  t.match(await surfaced, { message: 'listener bug' }, 'the error was not swallowed');
  await commits.commit([put('y')]);
  t.same((await db.keys().all()).sort(), ['x', 'y'], 'later batches are still written');
});
