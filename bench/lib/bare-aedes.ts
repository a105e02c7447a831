/**
 * The bare aedes reference broker (bench/bare-aedes.ts) as a child process: same certificate and
 * device credentials as the other two brokers, and the process environment of the shipped unit
 * (unit-env.ts), so that what differs from the gateway is the gateway's own code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BareAedesConfig } from '../bare-aedes.js';
import type { CertFiles } from './certs.js';
import type { Credential } from './mosquitto.js';
import { ListeningProcess } from './listening-process.js';
import { unitProcessEnvironment } from './unit-env.js';

const ENTRY = path.resolve(import.meta.dirname, '../bare-aedes.js');

export class BareAedes {
  private readonly process: ListeningProcess;

  constructor(readonly opts: { name: string; dir: string; port: number; tls: CertFiles; users: readonly Credential[] }) {
    this.process = new ListeningProcess(opts.name, opts.port);
  }

  get pid(): number { return this.process.pid; }

  get port(): number { return this.opts.port; }

  async start(): Promise<void> {
    const config: BareAedesConfig = {
      port: this.opts.port, certFile: this.opts.tls.certFile, keyFile: this.opts.tls.keyFile,
      users: Object.fromEntries(this.opts.users.map((u) => [u.username, u.password])),
    };
    // A file, not the environment: 5,000 users are more than one environment string may hold.
    mkdirSync(this.opts.dir, { recursive: true });
    const configFile = path.join(this.opts.dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
    await this.process.start(process.execPath, [ENTRY], { env: { PATH: process.env.PATH ?? '', ...unitProcessEnvironment(), BARE_AEDES_CONFIG_FILE: configFile } });
  }

  stop(): Promise<void> { return this.process.stop(); }
}
