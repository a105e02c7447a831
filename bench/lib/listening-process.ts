/**
 * A broker as a child process (mosquitto, bare aedes): started, tracked for stopAll(), ready once it
 * accepts TCP connections on its port, and refused with its last stderr lines if it exits first.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { stopChild, track } from './children.js';
import { waitForPort } from './net.js';

export class ListeningProcess {
  private child: ChildProcess | undefined;
  private stderr = '';

  constructor(readonly name: string, readonly port: number) {}

  get pid(): number {
    if (!this.child?.pid) throw new Error(`${this.name} is not running`);
    return this.child.pid;
  }

  async start(command: string, args: readonly string[], options: Omit<SpawnOptions, 'stdio'> = {}): Promise<void> {
    this.stderr = '';
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
    track(child, this.name);
    child.stderr?.on('data', (c: Buffer) => { this.stderr = (this.stderr + c.toString()).slice(-4000); });
    this.child = child;
    const failed = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${this.name} exited with ${code}: ${this.stderr}`))));
    failed.catch(() => undefined);
    await Promise.race([waitForPort(this.port), failed]);
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child);
    this.child = undefined;
  }
}
