import t from 'tap';
import { getTasks } from 'node-cron';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/log.js';

const log = createLogger('silent');

function ourTasks(prefix: string): string[] {
  return [...getTasks().values()].map((task) => task.name ?? '').filter((name) => name.startsWith(prefix));
}

t.test('a slow job never overlaps itself; stop waits for the run in progress and leaves no task', async (t) => {
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  let release: () => void = () => undefined;
  const scheduler = new Scheduler({
    timeZone: '', log,
    jobs: [{
      name: 'slow', schedule: '* * * * * *',
      run: async () => {
        running += 1; maxRunning = Math.max(maxRunning, running); runs += 1;
        await new Promise<void>((resolve) => { release = resolve; });
        running -= 1;
      },
    }],
  });
  await scheduler.start();
  t.same(ourTasks('ways-edge:slow'), ['ways-edge:slow'], 'the task is scheduled with node-cron');

  // The first run holds until released; the next second's slot must be skipped, not stacked.
  const skipped = new Promise<void>((resolve) => { const off = scheduler.events.on('skipped', () => { off(); resolve(); }); });
  await skipped;
  t.equal(running, 1);
  const joined = scheduler.runNow('slow');
  t.equal(running, 1, 'runNow joins the run in progress instead of starting another');
  const ran = new Promise<void>((resolve) => { const off = scheduler.events.on('ran', () => { off(); resolve(); }); });
  release();
  await Promise.all([ran, joined]);
  t.equal(maxRunning, 1, 'never two runs at once');

  // Stop while a run is in progress: stop() resolves only after that run has finished.
  const second = new Promise<void>((resolve) => { const off = scheduler.events.on('skipped', () => { off(); resolve(); }); });
  await second;
  let stopped = false;
  const stopping = scheduler.stop().then(() => { stopped = true; });
  await new Promise((r) => setImmediate(r));
  t.equal(stopped, false, 'stop waits for the job in progress');
  release();
  await stopping;
  t.equal(running, 0);
  t.same(ourTasks('ways-edge:slow'), [], 'no task is left in node-cron after stop');
  const before = runs;
  await scheduler.runNow('slow');
  t.equal(runs, before, 'a stopped scheduler runs nothing');
  const snap = scheduler.snapshot()[0];
  t.ok(snap && snap.runs >= 2 && snap.failures === 0);
});

t.test('a failing job is logged and counted, and runs again', async (t) => {
  let calls = 0;
  const scheduler = new Scheduler({ timeZone: '', log, jobs: [{ name: 'flaky', schedule: '0 0 1 1 *', run: async () => { calls += 1; if (calls === 1) throw new Error('boom'); return 'fine'; } }] });
  await scheduler.start();
  t.teardown(() => scheduler.stop());
  const failed = new Promise<Error>((resolve) => { const off = scheduler.events.on('failed', (_n, e) => { off(); resolve(e); }); });
  await scheduler.runNow('flaky');
  t.equal((await failed).message, 'boom');
  const ran = new Promise<unknown>((resolve) => { const off = scheduler.events.on('ran', (_n, result) => { off(); resolve(result); }); });
  await scheduler.runNow('flaky');
  t.equal(await ran, 'fine');
  t.match(scheduler.snapshot()[0], { name: 'flaky', runs: 2, failures: 1, last_error: null });
  await t.rejects(scheduler.runNow('nope'), /no job named nope/);
});

t.test('jobs run in the gateway time zone', async (t) => {
  const scheduler = new Scheduler({ timeZone: 'Asia/Tokyo', log, jobs: [{ name: 'midnight', schedule: '0 0 * * *', run: async () => undefined }] });
  await scheduler.start();
  t.teardown(() => scheduler.stop());
  const next = scheduler.snapshot()[0]?.next_run_at ?? '';
  t.match(next, /T15:00:00\.000Z$/, `midnight in Tokyo is 15:00 UTC (${next})`);
});
