import { writeFile, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SYNC, type JsonSublevel, type Store } from '../store/store.js';
import { UNCACHED } from '../store/scan.js';
import type { Service } from '../lifecycle.js';
import type { Logger } from '../log.js';
import { GatewayError, invalidField } from '../errors.js';
import { digestsEqual, randomString, sha256Hex } from './secrets.js';
import { TypedEmitter } from '../typed-emitter.js';

export const KEY_PREFIX = 'wayscloud_iot_prod_';
/** 40 base62 characters ≈ 238 bits. */
const KEY_RANDOM_LENGTH = 40;
export const SCOPES = ['admin', 'read', 'mqtt'] as const;
export type Scope = (typeof SCOPES)[number];
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ApiKeyRecord {
  name: string;
  scopes: Scope[];
  /** SHA-256 (hex) of the key; the key itself is never stored. */
  sha256: string;
  created_at: string;
}

/** What the API shows of a key: never the key or its hash. */
export interface ApiKeyView { name: string; scopes: Scope[]; created_at: string; prefix: string }

export interface ApiKeyPrincipal { name: string; scopes: Scope[] }

/**
 * API keys: created with a name and scopes, shown once, stored as SHA-256 only. Lookups are by hash
 * through an in-memory index (keys are few) and compared in constant time.
 */
export class ApiKeys implements Service {
  readonly name = 'api-keys';
  private readonly db: JsonSublevel<ApiKeyRecord>;
  private readonly byHash = new Map<string, ApiKeyRecord>();
  /** `revoked`: the broker closes the MQTT connections of applications that logged in with the key. */
  readonly events = new TypedEmitter<{ revoked: [name: string] }>();

  constructor(private readonly deps: { store: Store; dataDir: string; log: Logger }) {
    this.db = deps.store.json<ApiKeyRecord>('keys');
  }

  async start(): Promise<void> {
    for await (const record of this.db.values(UNCACHED)) this.byHash.set(record.sha256, record);
    if (this.byHash.size === 0) await this.createFirstAdminKey();
  }

  async stop(): Promise<void> { this.byHash.clear(); }

  /** First start: one admin key, printed once and written to a 0600 file for installers. */
  private async createFirstAdminKey(): Promise<void> {
    const file = path.join(this.deps.dataDir, 'admin.key');
    const { key } = await this.create('admin', ['admin']);
    await writeFile(file, key + '\n', { mode: 0o600 });
    await chmod(file, 0o600);
    // The key goes to an interactive console once, outside the JSON log stream. Under systemd stderr
    // is the journal, which would keep it: there the installer reads admin.key instead.
    if (process.env.JOURNAL_STREAM === undefined) process.stderr.write(`\nways-edge: first start — admin API key (shown once, also in ${file}):\n  ${key}\n\n`);
    this.deps.log.info({ event: 'admin_key_created', file }, 'created the first admin API key');
  }

  adminKeyFileExists(): boolean { return existsSync(path.join(this.deps.dataDir, 'admin.key')); }

  async create(name: unknown, scopes: unknown): Promise<{ key: string; record: ApiKeyView }> {
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) throw invalidField('name', 'must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit');
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s): s is Scope => (SCOPES as readonly string[]).includes(s as string))) {
      throw invalidField('scopes', `must be a non-empty list of ${SCOPES.join(', ')}`);
    }
    if ((await this.db.get(name)) !== undefined) throw new GatewayError('conflict', `an API key named ${name} already exists`);
    const key = KEY_PREFIX + randomString(KEY_RANDOM_LENGTH);
    const record: ApiKeyRecord = { name, scopes: [...new Set(scopes)], sha256: sha256Hex(key), created_at: new Date().toISOString() };
    await this.db.put(name, record, SYNC);
    this.byHash.set(record.sha256, record);
    return { key, record: view(record) };
  }

  list(): ApiKeyView[] {
    return [...this.byHash.values()].map(view).sort((a, b) => a.name.localeCompare(b.name));
  }

  async revoke(name: string): Promise<void> {
    const record = await this.db.get(name);
    if (record === undefined) throw new GatewayError('not_found', `no API key named ${name}`);
    await this.db.del(name, SYNC);
    this.byHash.delete(record.sha256);
    this.events.emit('revoked', name);
  }

  /** The principal a presented key stands for, or undefined. Revocation takes effect at once. */
  authenticate(presented: string): ApiKeyPrincipal | undefined {
    if (!presented.startsWith(KEY_PREFIX)) return undefined;
    const digest = sha256Hex(presented);
    const record = this.byHash.get(digest);
    // The map lookup finds the candidate; the constant-time compare is what decides.
    if (!record || !digestsEqual(record.sha256, digest)) return undefined;
    return { name: record.name, scopes: record.scopes };
  }

  /** For MQTT applications: username `app:<name>`, password = the key. */
  authenticateNamed(name: string, presented: string): ApiKeyPrincipal | undefined {
    const principal = this.authenticate(presented);
    return principal && principal.name === name ? principal : undefined;
  }
}

function view(r: ApiKeyRecord): ApiKeyView {
  return { name: r.name, scopes: r.scopes, created_at: r.created_at, prefix: KEY_PREFIX };
}

export function hasScope(principal: ApiKeyPrincipal, needed: Scope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(needed);
}
