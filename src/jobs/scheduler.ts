import cron, { type ScheduledTask } from 'node-cron';
import type { Service } from '../lifecycle.js';
import type { Logger } from '../log.js';
import { TypedEmitter } from '../typed-emitter.js';

/** One periodic piece of work: a name (also its `jobs.*` setting), a cron schedule and what it does. */
export interface JobDefinition {
  name: string;
  schedule: string;
  /** What the job returns is logged (at debug) and passed to 'ran' listeners. */
  run: () => Promise<unknown>;
  /** Also run once at start, before scheduling (catching up on a slot missed while the gateway was off). */
  runAtStart?: boolean;
}

export type JobEvents = {
  ran: [name: string, result: unknown, ms: number];
  failed: [name: string, error: Error];
  /** A run was due while the previous one was still going; it was skipped, not stacked. */
  skipped: [name: string];
};

export interface JobStats {
  name: string;
  schedule: string;
  runs: number;
  failures: number;
  last_run_at: string | null;
  last_success_at: string | null;
  last_duration_ms: number | null;
  last_error: string | null;
  next_run_at: string | null;
}

/**
 * Runs the gateway's periodic jobs with node-cron, in the gateway's time zone. No job overlaps itself:
 * node-cron's `noOverlap` skips a scheduled run while the previous one is busy, and `runNow` goes
 * through the same guard. `stop()` destroys every task (which also removes it from node-cron's
 * process-wide registry, so no timer is left) and waits for runs in progress, so that no job touches
 * the store after it closes.
 */
export class Scheduler implements Service {
  readonly name = 'jobs';
  readonly events = new TypedEmitter<JobEvents>();
  private readonly tasks = new Map<string, ScheduledTask>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly stats = new Map<string, JobStats>();
  private stopped = false;

  constructor(private readonly deps: { jobs: JobDefinition[]; timeZone: string; log: Logger }) {
    for (const job of deps.jobs) {
      this.stats.set(job.name, { name: job.name, schedule: job.schedule, runs: 0, failures: 0, last_run_at: null, last_success_at: null, last_duration_ms: null, last_error: null, next_run_at: null });
    }
  }

  async start(): Promise<void> {
    this.stopped = false;
    const log = this.deps.log;
    // node-cron logs through console by default; route it into the gateway's JSON log.
    const logger = {
      info: (m: string) => log.debug({ event: 'cron' }, m),
      warn: (m: string) => log.warn({ event: 'cron' }, m),
      error: (m: string | Error) => log.error({ event: 'cron', err: m }, typeof m === 'string' ? m : m.message),
      debug: (m: string | Error) => log.debug({ event: 'cron' }, String(m)),
    };
    for (const job of this.deps.jobs) if (job.runAtStart) await this.execute(job);
    for (const job of this.deps.jobs) {
      const task = cron.createTask(job.schedule, () => this.execute(job), {
        name: `ways-edge:${job.name}`,
        timezone: this.deps.timeZone || undefined,
        noOverlap: true,
        logger,
        // A missed slot (event loop busy, clock jump) is not worth a warning: the next one comes.
        suppressMissedWarning: true,
      });
      task.on('execution:overlap', () => {
        log.debug({ event: 'job_skipped', job: job.name }, `${job.name} still running; this run is skipped`);
        this.events.emit('skipped', job.name);
      });
      this.tasks.set(job.name, task);
      await task.start();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const task of this.tasks.values()) await task.destroy();
    this.tasks.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  /** Runs a job now (start-up catch-up, tests, an operator command); joins a run already in progress. */
  runNow(name: string): Promise<void> {
    const job = this.deps.jobs.find((j) => j.name === name);
    if (!job) return Promise.reject(new Error(`no job named ${name}`));
    return this.execute(job);
  }

  /** Per-job counters, for /metrics. */
  snapshot(): JobStats[] {
    return [...this.stats.values()].map((s) => ({ ...s, next_run_at: this.tasks.get(s.name)?.getNextRun()?.toISOString() ?? null }));
  }

  private execute(job: JobDefinition): Promise<void> {
    const busy = this.running.get(job.name);
    if (busy) {
      this.events.emit('skipped', job.name);
      return busy;
    }
    if (this.stopped) return Promise.resolve();
    const run = this.runOnce(job).finally(() => this.running.delete(job.name));
    this.running.set(job.name, run);
    return run;
  }

  /** Never throws: a failed job is logged and counted, and runs again at its next slot. */
  private async runOnce(job: JobDefinition): Promise<void> {
    const stats = this.stats.get(job.name) as JobStats;
    const started = performance.now();
    stats.last_run_at = new Date().toISOString();
    try {
      const result = await job.run();
      const ms = Math.round((performance.now() - started) * 10) / 10;
      stats.runs += 1;
      stats.last_success_at = new Date().toISOString();
      stats.last_duration_ms = ms;
      stats.last_error = null;
      this.deps.log.debug({ event: 'job_ran', job: job.name, ms, result }, `${job.name} ran`);
      this.events.emit('ran', job.name, result, ms);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      stats.runs += 1;
      stats.failures += 1;
      stats.last_duration_ms = Math.round((performance.now() - started) * 10) / 10;
      stats.last_error = error.message;
      this.deps.log.error({ event: 'job_failed', job: job.name, err: error }, `${job.name} failed: ${error.message}`);
      this.events.emit('failed', job.name, error);
    }
  }
}
