import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { loopbackGatewayEnv } from './env.js';

/** dist/src/main.js, next to this compiled helper (dist/test/helpers). */
export const MAIN_JS = path.resolve(import.meta.dirname, '../../src/main.js');

export interface SpawnedGateway {
  child: ChildProcess;
  /** Ports learnt from the gateway's JSON log lines (api_listening, mqtt_listening). */
  apiPort: number;
  mqttPort: number;
  dataDir: string;
  /** Every JSON log line so far. */
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  adminKey: () => string;
  caPem: () => string;
  /** SIGTERM and wait for exit; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash) and wait for the process to be gone. */
  kill9(): Promise<void>;
  /** Resolves with the first log line matching `event`. */
  waitForLog(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/**
 * Runs the real gateway as a child process (`node dist/src/main.js start`), for tests that need a
 * crash (kill -9), signals or exit codes. Ports are ephemeral; resolves once the gateway logs 'ready'.
 */
export async function spawnGateway(dataDir: string, env: Record<string, string> = {}, args: string[] = ['start']): Promise<SpawnedGateway> {
  const child = spawn(process.execPath, [MAIN_JS, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      ...loopbackGatewayEnv(dataDir),
      WAYS_EDGE_LOG_LEVEL: 'info',
      ...env,
    },
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const waiters: Array<{ event: string; resolve: (l: Record<string, unknown>) => void }> = [];
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let entry: Record<string, unknown>;
    try { entry = JSON.parse(line) as Record<string, unknown>; } catch { return; }
    logs.push(entry);
    for (const w of [...waiters]) if (entry.event === w.event) { waiters.splice(waiters.indexOf(w), 1); w.resolve(entry); }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLog = (event: string, timeoutMs = 20_000): Promise<Record<string, unknown>> => {
    const seen = logs.find((l) => l.event === event);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${event}" log within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      const w = { event, resolve: (l: Record<string, unknown>) => { clearTimeout(timer); resolve(l); } };
      waiters.push(w);
      void exited.then((code) => { clearTimeout(timer); reject(new Error(`gateway exited with ${code} before "${event}"; stderr: ${stderr}`)); });
    });
  };

  const ready = await waitForLog('ready');
  void ready;
  const api = logs.find((l) => l.event === 'api_listening');
  const mqtt = logs.find((l) => l.event === 'mqtt_listening');
  return {
    child,
    apiPort: Number(api?.port ?? 0),
    mqttPort: Number(mqtt?.port ?? 0),
    dataDir,
    logs,
    stderr: () => stderr,
    adminKey: () => readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim(),
    caPem: () => readFileSync(path.join(dataDir, 'certs', 'ca.crt'), 'utf8'),
    waitForLog,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN_JS, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
