import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ToolResult { code: number | null; stdout: string; stderr: string }

/** A running external tool: resolves when it exits; `ready` resolves at the first output line matching. */
export type RunningTool = Promise<ToolResult> & { ready: Promise<void> };

const TOOL_TIMEOUT_MS = 60_000;

/**
 * Runs a command-line client (mosquitto_pub/sub, python3) with a hard timeout. `readyWhen` marks the
 * moment the tool is set up (e.g. mosquitto_sub -d printing "received SUBACK"), so a test waits for
 * that event instead of sleeping.
 */
export function runTool(command: string, args: string[], readyWhen?: (line: string) => boolean, env: NodeJS.ProcessEnv = process.env): RunningTool {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => undefined;
  let failReady: (err: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => { markReady = resolve; failReady = reject; });
  ready.catch(() => undefined);
  const onLine = (line: string): void => { if (readyWhen?.(line)) markReady(); };
  createInterface({ input: child.stdout }).on('line', (line) => { stdout += `${line}\n`; onLine(line); });
  createInterface({ input: child.stderr }).on('line', (line) => { stderr += `${line}\n`; onLine(line); });
  const timer = setTimeout(() => child.kill('SIGKILL'), TOOL_TIMEOUT_MS);
  const done = new Promise<ToolResult>((resolve, reject) => {
    child.once('error', (err) => { clearTimeout(timer); failReady(err); reject(err); });
    child.once('close', (code) => {
      clearTimeout(timer);
      failReady(new Error(`${command} exited (${code}) before it was ready: ${stderr}`));
      resolve({ code, stdout, stderr });
    });
  });
  if (!readyWhen) markReady();
  return Object.assign(done, { ready });
}

/** The first of `candidates` that runs `python3 -c "import paho.mqtt"` (Debian's python3-paho-mqtt), or undefined. */
export function pythonWithPaho(candidates = ['/usr/bin/python3', 'python3']): string | undefined {
  return candidates.find((python) => spawnSync(python, ['-c', 'import paho.mqtt.client'], { stdio: 'ignore' }).status === 0);
}
