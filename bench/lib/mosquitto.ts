/**
 * mosquitto 2.0 instances for the comparison and as the local "cloud": each with its own config
 * file in the bench's temp dir, on a loopback port, started and stopped by PID (never the system
 * service).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListeningProcess } from './listening-process.js';
import type { CertFiles } from './certs.js';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
export const INSTALL_HINT = 'apt-get install -y mosquitto';

/**
 * Makes sure mosquitto is installed: as root with apt-get available it installs the Debian package;
 * otherwise it prints exactly the command to run and returns false.
 */
export function ensureMosquitto(log: (line: string) => void): boolean {
  if (existsSync(MOSQUITTO) && existsSync(MOSQUITTO_PASSWD)) return true;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (isRoot && hasApt) {
    log('mosquitto is missing; installing it (apt-get install -y mosquitto)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = spawnSync('apt-get', ['install', '-y', 'mosquitto'], { stdio: 'inherit', env });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
      r = spawnSync('apt-get', ['install', '-y', 'mosquitto'], { stdio: 'inherit', env });
    }
    if (r.status === 0 && existsSync(MOSQUITTO)) return true;
  }
  console.log(INSTALL_HINT);
  return false;
}

/** "2.0.11" from `mosquitto -h` (it prints the version on its first line and exits 3). */
export function mosquittoVersion(): string {
  const r = spawnSync(MOSQUITTO, ['-h'], { encoding: 'utf8' });
  return /mosquitto version (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

export interface Credential { username: string; password: string }

/**
 * The password file: written in plain text `user:password` and hashed in place by
 * `mosquitto_passwd -U` (one process for any number of users; mosquitto 2.0's PBKDF2-SHA512 format).
 */
export function writePasswordFile(file: string, users: readonly Credential[]): void {
  writeFileSync(file, users.map((u) => `${u.username}:${u.password}\n`).join(''), { mode: 0o600 });
  execFileSync(MOSQUITTO_PASSWD, ['-U', file], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * The ACL equivalent to the gateway's (src/broker/acl.ts): a device writes only its own
 * telemetry/events/status and reads only its own commands/config/firmware (`%u` = username =
 * device id); the application user reads every device's telemetry/events/status and writes commands.
 */
export function aclText(appUser: string): string {
  return [
    '# per-device rules (the gateway: src/broker/acl.ts)',
    'pattern write devices/%u/telemetry',
    'pattern write devices/%u/events',
    'pattern write devices/%u/status',
    'pattern read devices/%u/commands',
    'pattern read devices/%u/config',
    'pattern read devices/%u/firmware',
    '',
    `user ${appUser}`,
    'topic read devices/+/telemetry',
    'topic read devices/+/events',
    'topic read devices/+/status',
    'topic write devices/+/commands',
    'topic write devices/+/config',
    'topic write devices/+/firmware',
    '',
  ].join('\n');
}

export interface MosquittoOptions {
  name: string;
  dir: string;
  port: number;
  /** TLS listener with these certificates; plain TCP when absent. */
  tls?: CertFiles;
  /** Password file and ACL (auth on); anonymous access when absent. */
  users?: readonly Credential[];
  appUser?: string;
  /** Keep sessions across a restart (the cloud broker, so its subscriber misses nothing). */
  persistence?: boolean;
  /** Further mosquitto.conf lines (experiments). */
  extraConfig?: readonly string[];
}

export class Mosquitto {
  private readonly process: ListeningProcess;
  readonly configFile: string;

  constructor(readonly opts: MosquittoOptions) {
    this.process = new ListeningProcess(opts.name, opts.port);
    mkdirSync(opts.dir, { recursive: true });
    this.configFile = path.join(opts.dir, 'mosquitto.conf');
    const lines = [
      `# ${opts.name}: written by the ways-edge bench`,
      'per_listener_settings false',
      `listener ${opts.port} 127.0.0.1`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'connection_messages false',
      'max_keepalive 1200',
      // Same largest packet as the gateway (1 MB, the seed's limit).
      'max_packet_size 1048576',
      // As the gateway does (src/broker/listeners.ts): small packets do not wait for Nagle's algorithm.
      'set_tcp_nodelay true',
    ];
    // As root, mosquitto would switch to the user "mosquitto", which cannot read the bench's 0700 temp dir.
    if (typeof process.getuid === 'function' && process.getuid() === 0) lines.push(`user ${os.userInfo().username}`);
    if (opts.tls) lines.push(`cafile ${opts.tls.caFile}`, `certfile ${opts.tls.certFile}`, `keyfile ${opts.tls.keyFile}`);
    if (opts.users) {
      const pw = path.join(opts.dir, 'passwd');
      const acl = path.join(opts.dir, 'acl');
      writePasswordFile(pw, opts.users);
      writeFileSync(acl, aclText(opts.appUser ?? 'app'));
      lines.push('allow_anonymous false', `password_file ${pw}`, `acl_file ${acl}`);
    } else {
      lines.push('allow_anonymous true');
    }
    // The cloud: sessions survive its restart, and no cap on the queue of its subscriber (the default
    // 1000 would drop messages of the drain test before the subscriber is back).
    if (opts.persistence) lines.push('persistence true', `persistence_location ${opts.dir}/`, 'autosave_interval 0', 'max_queued_messages 0');
    else lines.push('persistence false');
    lines.push(...(opts.extraConfig ?? []));
    writeFileSync(this.configFile, lines.join('\n') + '\n');
  }

  get pid(): number { return this.process.pid; }

  get port(): number { return this.opts.port; }

  start(): Promise<void> { return this.process.start(MOSQUITTO, ['-c', this.configFile]); }

  stop(): Promise<void> { return this.process.stop(); }
}
