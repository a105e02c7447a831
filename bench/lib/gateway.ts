/**
 * The real gateway as a child process (`node [nodeArgs] dist/src/main.js start`), configured by
 * environment overrides, its ports learnt from its JSON log lines ('api_listening', 'mqtt_listening',
 * 'ready'). Like test/helpers/spawn.ts, plus extra node arguments (--cpu-prof), PID tracking and the
 * process environment of the shipped systemd unit (unit-env.ts: malloc tuning, NODE_OPTIONS).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { stopChild, track } from './children.js';
import { loopbackGatewayEnv } from '../../test/helpers/env.js';
import { unitProcessEnvironment } from './unit-env.js';

export const MAIN_JS = path.resolve(import.meta.dirname, '../../src/main.js');

export interface GatewayOptions {
  name: string;
  dataDir: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  /** Where the child's stdout lines that are not log lines (e.g. --trace-gc output) are appended. */
  stdoutFile?: string;
}

export type LogLine = Record<string, unknown>;

export class GatewayProcess {
  readonly logs: LogLine[] = [];
  private child: ChildProcess | undefined;
  private stderr = '';
  private waiters: Array<{ event: string; resolve: (l: LogLine) => void }> = [];
  apiPort = 0;
  mqttPort = 0;
  /** ms from spawn to the 'ready' log line. */
  spawnToReadyMs = NaN;

  constructor(readonly opts: GatewayOptions) {}

  get pid(): number {
    if (!this.child?.pid) throw new Error(`${this.opts.name} is not running`);
    return this.child.pid;
  }

  get running(): boolean { return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null; }

  adminKey(): string { return readFileSync(path.join(this.opts.dataDir, 'admin.key'), 'utf8').trim(); }

  async start(): Promise<void> {
    const t0 = performance.now();
    this.logs.length = 0;
    this.stderr = '';
    const child = spawn(process.execPath, [...(this.opts.nodeArgs ?? []), MAIN_JS, 'start'], {
      env: {
        PATH: process.env.PATH ?? '',
        ...unitProcessEnvironment(),
        // No mDNS: the bench's gateways are not announced on the LAN; mosquitto announces nothing either.
        ...loopbackGatewayEnv(this.opts.dataDir),
        WAYS_EDGE_LOG_LEVEL: 'info',
        ...this.opts.env,
      },
      cwd: this.opts.dataDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child, this.opts.name);
    this.child = child;
    child.stderr?.on('data', (c: Buffer) => { this.stderr = (this.stderr + c.toString()).slice(-8000); });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) { if (this.opts.stdoutFile) appendFileSync(this.opts.stdoutFile, `${line}\n`); return; }
      let entry: LogLine;
      try { entry = JSON.parse(line) as LogLine; } catch { return; }
      // Keep what the bench looks at, not every per-connection line (5,000 devices log a lot).
      if (this.logs.length < 2_000 || /listening|ready|uplink|error|fail/.test(String(entry.event))) this.logs.push(entry);
      for (const w of [...this.waiters]) if (entry.event === w.event) { this.waiters.splice(this.waiters.indexOf(w), 1); w.resolve(entry); }
    });
    await this.waitForLog('ready', this.opts.readyTimeoutMs ?? 30_000);
    this.spawnToReadyMs = performance.now() - t0;
    this.apiPort = Number(this.logs.find((l) => l.event === 'api_listening')?.port ?? 0);
    this.mqttPort = Number(this.logs.find((l) => l.event === 'mqtt_listening')?.port ?? 0);
  }

  waitForLog(event: string, timeoutMs = 20_000): Promise<LogLine> {
    const seen = this.logs.find((l) => l.event === event);
    if (seen) return Promise.resolve(seen);
    const child = this.child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.opts.name}: no "${event}" log within ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({ event, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      child?.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${this.opts.name} exited with ${code} before "${event}"; stderr: ${this.stderr}`)); });
    });
  }

  /** SIGTERM (a clean stop: a --cpu-prof profile is written on the way out) and wait for the exit. */
  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, 'SIGTERM', 20_000);
    this.child = undefined;
  }
}
