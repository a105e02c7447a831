import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import cron from 'node-cron';
import { configSchema, type GatewayConfig } from './schema.js';
import { applyOverrides, envOverrides } from './env.js';
import { cloudUrlProblem } from './cloud-url.js';
import { GatewayError, type FieldProblem } from '../errors.js';

const CRON_FIELDS = ['health_sample', 'usage_rollup', 'quota_reset', 'retention', 'cert_check', 'compaction'] as const;

export interface LoadOptions {
  /** Explicit config path (from --config); WAYS_EDGE_CONFIG is used when absent. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Loads gateway.yaml (or the embedded defaults when there is no file), applies environment overrides,
 * validates everything against the schema and returns a frozen config. It reads only: a bad file
 * changes nothing on disk. Every problem is reported at once, by setting path.
 */
export function loadConfig(opts: LoadOptions = {}): GatewayConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const explicit = opts.file ?? env.WAYS_EDGE_CONFIG;
  let file = '';
  if (explicit) {
    file = path.resolve(cwd, explicit);
    if (!existsSync(file)) throw new GatewayError('config_invalid', `config file not found: ${file}`, { details: [{ field: 'config', reason: `file not found: ${file}` }] });
  } else if (existsSync(path.join(cwd, 'gateway.yaml'))) {
    file = path.join(cwd, 'gateway.yaml');
  }

  const raw = file ? parseYaml(file) : {};
  applyOverrides(raw, envOverrides(env));

  // Compiled per load, not kept at module level: the gateway loads its config once, and the compiled
  // validator (and the Ajv instance behind it) would stay in its heap for good (~0.3 MB).
  const validate = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, strict: false, verbose: true }).compile(configSchema);
  const problems: FieldProblem[] = [];
  if (!validate(raw)) problems.push(...(validate.errors ?? []).map(describeAjvError));
  const candidate = raw as unknown as Omit<GatewayConfig, 'config_file'>;
  if (problems.length === 0) {
    for (const field of CRON_FIELDS) {
      if (!cron.validate(candidate.jobs[field])) problems.push({ field: `jobs.${field}`, reason: 'must be a valid cron expression' });
    }
    if (candidate.gateway.timezone && !isTimeZone(candidate.gateway.timezone)) problems.push({ field: 'gateway.timezone', reason: 'must be an IANA time zone such as Europe/Oslo' });
    if ((candidate.tls.cert_file === '') !== (candidate.tls.key_file === '')) problems.push({ field: 'tls.key_file', reason: 'cert_file and key_file must be given together' });
    const urlProblem = cloudUrlProblem(candidate.cloud.url);
    if (urlProblem) problems.push({ field: 'cloud.url', reason: urlProblem });
    if (candidate.cloud.reconnect_max_ms < candidate.cloud.reconnect_min_ms) problems.push({ field: 'cloud.reconnect_max_ms', reason: 'must be >= cloud.reconnect_min_ms' });
  }
  if (problems.length > 0) {
    throw new GatewayError('config_invalid', `invalid configuration${file ? ` in ${file}` : ''}:\n` + problems.map((p) => `  ${p.field}: ${p.reason}`).join('\n'), { details: problems });
  }

  const base = file ? path.dirname(file) : cwd;
  const resolveFrom = (dir: string, p: string): string => (p === '' ? '' : path.resolve(dir, p));
  // WAYS_EDGE_DATA_DIR is relative to where the command runs; the file's data_dir to the file.
  const dataDir = env.WAYS_EDGE_DATA_DIR !== undefined ? path.resolve(cwd, env.WAYS_EDGE_DATA_DIR) : path.resolve(base, candidate.data_dir);
  const config: GatewayConfig = {
    ...candidate,
    config_file: file,
    data_dir: dataDir,
    tls: {
      ...candidate.tls,
      cert_file: resolveFrom(base, candidate.tls.cert_file),
      key_file: resolveFrom(base, candidate.tls.key_file),
      ca_file: resolveFrom(base, candidate.tls.ca_file),
    },
    cloud: { ...candidate.cloud, ca: env.WAYS_EDGE_CLOUD_CA !== undefined ? resolveFrom(cwd, candidate.cloud.ca) : resolveFrom(base, candidate.cloud.ca) },
  };
  return deepFreeze(config);
}

function parseYaml(file: string): Record<string, unknown> {
  const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true });
  if (doc.errors.length > 0) {
    const details = doc.errors.map((e) => ({ field: 'yaml', reason: e.message.split('\n')[0] ?? e.message }));
    throw new GatewayError('config_invalid', `invalid configuration in ${file}:\n` + details.map((d) => `  ${d.field}: ${d.reason}`).join('\n'), { details });
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new GatewayError('config_invalid', `invalid configuration in ${file}:\n  (root): must be a mapping of settings`, { details: [{ field: '(root)', reason: 'must be a mapping of settings' }] });
  }
  return value as Record<string, unknown>;
}

function describeAjvError(e: ErrorObject): FieldProblem {
  const base = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { field: base ? `${base}.${String(params.additionalProperty)}` : String(params.additionalProperty), reason: 'unknown setting' };
    case 'minimum':
    case 'maximum': {
      const schema = e.parentSchema as { minimum?: number; maximum?: number } | undefined;
      const min = schema?.minimum; const max = schema?.maximum;
      const reason = min !== undefined && max !== undefined ? `must be ${min}..${max}` : `must be ${e.keyword === 'minimum' ? '>=' : '<='} ${String(params.limit)}`;
      return { field: base, reason };
    }
    case 'enum':
      return { field: base, reason: `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}` };
    default:
      return { field: base || '(root)', reason: e.message ?? 'invalid' };
  }
}

function isTimeZone(tz: string): boolean {
  try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
