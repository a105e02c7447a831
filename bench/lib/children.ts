/**
 * Every process the bench starts is registered here and stopped by its PID at the end, also when a
 * scenario throws (run.ts calls stopAll() in a finally block and on SIGINT/SIGTERM).
 */
import type { ChildProcess } from 'node:child_process';

const live = new Map<number, { child: ChildProcess; name: string }>();

export function track(child: ChildProcess, name: string): ChildProcess {
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const pid = child.pid;
  live.set(pid, { child, name });
  child.once('exit', () => live.delete(pid));
  return child;
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Sends `signal` to the child by PID and waits for it to exit; SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (!isRunning(child) || child.pid === undefined) return;
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try { process.kill(pid, signal); } catch { return; }
  const timer = setTimeout(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
  try { await exited; } finally { clearTimeout(timer); }
}

/** Stops every tracked process that is still running (reverse start order). */
export async function stopAll(): Promise<void> {
  const all = [...live.values()].reverse();
  await Promise.all(all.map(({ child }) => stopChild(child, 'SIGTERM', 5_000)));
}

/** Names and PIDs still running (for a last report if stopping failed). */
export function running(): string[] {
  return [...live.entries()].map(([pid, { name }]) => `${name} (pid ${pid})`);
}
