import { readFile } from 'node:fs/promises';
import https from 'node:https';
import http from 'node:http';
import path from 'node:path';
import type { GatewayConfig } from '../config/schema.js';
import { Store } from '../store/store.js';
import { ApiKeys } from '../auth/api-keys.js';
import { createLogger } from '../log.js';
import { GatewayError } from '../errors.js';

/**
 * `ways-edge keys …`. One LevelDB process at a time: when a gateway runs on this data directory the
 * command goes through its API; otherwise it opens the store itself.
 */
export async function keysCommand(config: GatewayConfig, sub: string | undefined, name: string | undefined, scopes: string | undefined): Promise<void> {
  const out = (s: string): boolean => process.stdout.write(s + '\n');
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new GatewayError('bad_request', 'usage: ways-edge keys create NAME --scopes admin,read,mqtt | list | revoke NAME');
  if (sub !== 'list' && !name) throw new GatewayError('bad_request', `usage: ways-edge keys ${sub} NAME`);
  const scopeList = (scopes ?? 'read').split(',').map((s) => s.trim()).filter(Boolean);

  const viaApi = await tryApi(config);
  if (viaApi) {
    if (sub === 'create') {
      const r = await viaApi('POST', '/v1/iot/keys', { name, scopes: scopeList }) as { key: string; name: string; scopes: string[] };
      out(`created API key "${r.name}" (${r.scopes.join(',')}); it is shown only now:\n${r.key}`);
    } else if (sub === 'list') {
      const r = await viaApi('GET', '/v1/iot/keys') as { keys: Array<{ name: string; scopes: string[]; created_at: string }> };
      for (const k of r.keys) out(`${k.name}\t${k.scopes.join(',')}\t${k.created_at}`);
    } else {
      await viaApi('DELETE', `/v1/iot/keys/${encodeURIComponent(name as string)}`);
      out(`revoked API key "${name}"`);
    }
    return;
  }

  const store = new Store(config.data_dir);
  await store.start();
  const keys = new ApiKeys({ store, dataDir: config.data_dir, log: createLogger('warn') });
  try {
    await keys.start();
    if (sub === 'create') {
      const { key, record } = await keys.create(name, scopeList);
      out(`created API key "${record.name}" (${record.scopes.join(',')}); it is shown only now:\n${key}`);
    } else if (sub === 'list') {
      for (const k of keys.list()) out(`${k.name}\t${k.scopes.join(',')}\t${k.created_at}`);
    } else {
      await keys.revoke(name as string);
      out(`revoked API key "${name}" (takes effect when the gateway next starts; it was not running)`);
    }
  } finally {
    await keys.stop();
    await store.stop();
  }
}

type Call = (method: string, urlPath: string, body?: unknown) => Promise<unknown>;

/** A caller for the running gateway's API, or undefined when none answers on this machine. */
async function tryApi(config: GatewayConfig): Promise<Call | undefined> {
  const host = config.api.host === '0.0.0.0' || config.api.host === '::' ? '127.0.0.1' : config.api.host;
  const caFile = config.tls.ca_file || path.join(config.data_dir, 'certs', 'ca.crt');
  const ca = await readFile(caFile, 'utf8').catch(() => undefined);
  const key = process.env.WAYS_EDGE_API_KEY ?? (await readFile(path.join(config.data_dir, 'admin.key'), 'utf8').catch(() => '')).trim();
  const call: Call = (method, urlPath, body) => new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const opts = { host, port: config.api.port, path: urlPath, method, ca, servername: 'localhost', headers: { Authorization: `Bearer ${key}`, ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}) } };
    const req = (config.api.tls ? https : http).request(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const parsed: unknown = text ? JSON.parse(text) : undefined;
        if ((res.statusCode ?? 500) >= 400) {
          const e = (parsed as { error?: { message?: string } } | undefined)?.error;
          reject(new GatewayError('bad_request', `gateway answered ${res.statusCode}: ${e?.message ?? text}`));
        } else resolve(parsed);
      });
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end(payload);
  });
  try {
    await call('GET', '/healthz');
    return call;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') return undefined;
    throw err;
  }
}
