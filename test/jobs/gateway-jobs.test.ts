import t from 'tap';
import { getTasks } from 'node-cron';
import { withGateway } from '../helpers/fixture.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';

const EVERY_SECOND = '* * * * * *';
const JOBS = ['health_sample', 'usage_rollup', 'quota_reset', 'retention', 'cert_check', 'compaction'];

t.test('every job runs on its jobs.* schedule, and none runs after the gateway stops', async (t) => {
  const { gw, api } = await withGateway(t, {
    env: {
      WAYS_EDGE_JOBS_HEALTH_SAMPLE: EVERY_SECOND, WAYS_EDGE_JOBS_USAGE_ROLLUP: EVERY_SECOND, WAYS_EDGE_JOBS_QUOTA_RESET: EVERY_SECOND,
      WAYS_EDGE_JOBS_RETENTION: EVERY_SECOND, WAYS_EDGE_JOBS_CERT_CHECK: EVERY_SECOND, WAYS_EDGE_JOBS_COMPACTION: EVERY_SECOND,
    },
  });
  const jobs = gw.gateway.jobs;
  const seen = new Map<string, unknown>();
  const allRan = new Promise<void>((resolve) => {
    const off = jobs.events.on('ran', (name, result) => {
      if (!seen.has(name)) seen.set(name, result);
      if (JOBS.every((j) => seen.has(j))) { off(); resolve(); }
    });
  });
  const failures: string[] = [];
  jobs.events.on('failed', (name, err) => failures.push(`${name}: ${err.message}`));
  await allRan;
  t.same(failures, [], 'no job failed');
  t.match(seen.get('health_sample'), { sample_cpu_ms: Number });
  t.match(seen.get('usage_rollup'), { date: /^\d{4}-\d{2}-\d{2}$/, devices: 0, messages_in: 0 });
  t.match(seen.get('quota_reset'), { reset: false });
  t.match(seen.get('retention'), { usage: 0, compacted: false });
  t.match(seen.get('cert_check'), { state: 'ok' });
  t.match(seen.get('compaction'), { compacted: false, deletes_since: 0 }, 'nothing deleted: compaction is not worthwhile');

  const m = parsePrometheus((await api.get('/metrics')).text);
  for (const job of JOBS) t.ok((sampleValue(m, 'ways_edge_job_runs_total', { job }) ?? 0) >= 1, `${job} runs are counted`);

  const names = (): string[] => [...getTasks().values()].map((task) => task.name ?? '').filter((n) => n.startsWith('ways-edge:'));
  t.ok(names().length >= JOBS.length, 'the tasks are scheduled with node-cron');
  await gw.stop();
  t.same(names(), [], 'stop removed every task from node-cron');
  // Absence can only be observed over time: with every job due each second, 1.5 s would show a run.
  let after = 0;
  jobs.events.on('ran', () => { after += 1; });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.equal(after, 0, 'no job ran after stop');
});
