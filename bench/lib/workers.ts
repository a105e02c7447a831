/**
 * Load-generator processes (bench/worker.ts) forked by the bench, driven by typed commands over the
 * IPC channel. Each is tracked (bench/lib/children.ts) and stopped by PID at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { stopChild, track } from './children.js';
import type { Command, Reply, Request, Results } from './protocol.js';

const WORKER_JS = path.resolve(import.meta.dirname, '../worker.js');

export class Worker {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(readonly name: string) {
    this.child = fork(WORKER_JS, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=2048'] });
    track(this.child, name);
    this.child.on('message', (msg: Reply) => {
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.ok) w.resolve(msg.result); else w.reject(new Error(`${this.name}: ${msg.error}`));
    });
    this.child.once('exit', (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`${this.name} exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  get pid(): number { return this.child.pid as number; }

  call<K extends Command['op']>(cmd: Extract<Command, { op: K }>): Promise<Results[K]> {
    const id = this.nextId++;
    return new Promise<Results[K]>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd } satisfies Request);
    });
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 'SIGTERM', 3_000);
  }
}

/** `n` workers; `all(fn)` runs a command on each in parallel. */
export class WorkerPool {
  readonly workers: Worker[];

  constructor(prefix: string, n: number) {
    this.workers = Array.from({ length: n }, (_, i) => new Worker(`${prefix}-${i + 1}`));
  }

  get pids(): number[] { return this.workers.map((w) => w.pid); }

  /** Resolves once every worker has started and answers (so start-up is not timed as load). */
  async ready(): Promise<void> {
    await this.all((w) => w.call({ op: 'ping' }));
  }

  all<T>(fn: (w: Worker, i: number) => Promise<T>): Promise<T[]> {
    return Promise.all(this.workers.map(fn));
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}

/** Splits `items` into `n` nearly equal contiguous parts. */
export function split<T>(items: readonly T[], n: number): T[][] {
  const parts: T[][] = Array.from({ length: n }, () => []);
  items.forEach((item, i) => parts[i % n]?.push(item));
  return parts;
}
