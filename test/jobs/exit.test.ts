import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';

const FIXTURE = path.resolve(import.meta.dirname, 'fixtures/run-jobs-then-stop.js');

t.test('a stopped gateway leaves no handle behind: the process exits by itself', async (t) => {
  const child = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  // The guard against a hang: a process that does not exit is killed, and the test says so.
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  clearTimeout(killer);
  const exitedAt = Date.now();
  const line = stdout.split('\n').find((l) => l.includes('"event":"stopped"'));
  t.ok(line, `the child stopped its gateway (stderr: ${stderr.slice(-500)})`);
  const stopped = JSON.parse(line ?? '{}') as { jobs?: string[]; metrics_status?: number; at?: number };
  t.same(stopped.jobs, ['cert_check', 'compaction', 'health_sample', 'quota_reset', 'retention', 'usage_rollup'], 'every job ran first');
  t.equal(stopped.metrics_status, 200);
  t.equal(signal, null, 'not killed: it exited on its own');
  t.equal(code, 0);
  t.ok(exitedAt - (stopped.at ?? 0) < 2000, `it exited ${exitedAt - (stopped.at ?? 0)} ms after stop, with nothing keeping it alive`);
});
