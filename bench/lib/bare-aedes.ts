/**
 * The bare aedes reference broker (bench/bare-aedes.ts) as a child process: same certificate and
 * device credentials as the other two brokers, and the process environment of the shipped unit
 * (unit-env.ts), so that what differs from the gateway is the gateway's own code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BareAedesConfig } from '../bare-aedes.js';
import type { CertFiles } from './certs.js';
import { stopChild, track } from './children.js';
import type { Credential } from './mosquitto.js';
import { waitForPort } from './net.js';
import { unitProcessEnvironment } from './unit-env.js';

const ENTRY = path.resolve(import.meta.dirname, '../bare-aedes.js');

export class BareAedes {
  private child: ChildProcess | undefined;
  private stderr = '';

  constructor(readonly opts: { name: string; dir: string; port: number; tls: CertFiles; users: readonly Credential[] }) {}

  get pid(): number {
    if (!this.child?.pid) throw new Error(`${this.opts.name} is not running`);
    return this.child.pid;
  }

  get port(): number { return this.opts.port; }

  async start(): Promise<void> {
    this.stderr = '';
    const config: BareAedesConfig = {
      port: this.opts.port, certFile: this.opts.tls.certFile, keyFile: this.opts.tls.keyFile,
      users: Object.fromEntries(this.opts.users.map((u) => [u.username, u.password])),
    };
    // A file, not the environment: 5,000 users are more than one environment string may hold.
    mkdirSync(this.opts.dir, { recursive: true });
    const configFile = path.join(this.opts.dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
    const child = spawn(process.execPath, [ENTRY], {
      env: { PATH: process.env.PATH ?? '', ...unitProcessEnvironment(), BARE_AEDES_CONFIG_FILE: configFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    track(child, this.opts.name);
    child.stderr?.on('data', (c: Buffer) => { this.stderr = (this.stderr + c.toString()).slice(-4000); });
    this.child = child;
    const failed = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${this.opts.name} exited with ${code}: ${this.stderr}`))));
    failed.catch(() => undefined);
    await Promise.race([waitForPort(this.opts.port), failed]);
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child);
    this.child = undefined;
  }
}
