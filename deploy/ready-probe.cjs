#!/usr/bin/env node
'use strict';
/*
 * Waits until the gateway answers GET /readyz with 200 (used by install.sh and update.sh).
 *
 *   node ready-probe.cjs [--url URL] [--config gateway.yaml] [--env-overrides ways-edge.env]
 *                        [--release DIR] [--timeout SECONDS] [--print-url]
 *
 * Without --url the URL is derived like the gateway derives its listener: WAYS_EDGE_API_HOST /
 * _PORT / _TLS from the environment, then from the env file, then api.host / api.port / api.tls in
 * gateway.yaml (parsed with the release's `yaml` package when there is one), then the defaults
 * 0.0.0.0:8443 over TLS. A wildcard host is probed on loopback. The certificate is not verified:
 * this is a loopback liveness probe of a gateway that may have just made its own CA.
 * Exit 0 = ready, 1 = not ready within the timeout, 2 = bad arguments.
 */
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

function parseArgs(argv) {
  const out = { timeout: 90 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--url') out.url = next();
    else if (a === '--config') out.config = next();
    else if (a === '--env-overrides') out.envFile = next();
    else if (a === '--release') out.release = next();
    else if (a === '--timeout') out.timeout = Number(next());
    else if (a === '--print-url') out.printUrl = true;
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isFinite(out.timeout) || out.timeout < 0) usage('--timeout must be a number of seconds');
  return out;
}

function usage(msg) {
  process.stderr.write(`ready-probe: ${msg}\n`);
  process.exit(2);
}

/** KEY=value lines (systemd EnvironmentFile / shell style, single or double quotes). */
function readEnvFile(file) {
  const env = {};
  let text;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return env; }
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!m) continue;
    let v = m[2].trim();
    if (/^'.*'$/.test(v)) v = v.slice(1, -1).replace(/'\\''/g, "'");
    else if (/^".*"$/.test(v)) v = v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    env[m[1]] = v;
  }
  return env;
}

/** api.{host,port,tls} from gateway.yaml; the release's yaml package, else a minimal reader. */
function readApiSection(file, release) {
  let text;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return {}; }
  if (release) {
    try {
      const req = createRequire(path.join(path.resolve(release), 'package.json'));
      const doc = req('yaml').parse(text);
      return (doc && typeof doc.api === 'object' && doc.api) || {};
    } catch { /* fall through to the minimal reader */ }
  }
  const api = {};
  let inApi = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#|$)/.test(line)) continue;
    if (/^\S/.test(line)) { inApi = /^api:\s*(#.*)?$/.test(line); continue; }
    if (!inApi) continue;
    const m = /^\s+(host|port|tls):\s*("[^"]*"|'[^']*'|[^#\s]*)/.exec(line);
    if (m) api[m[1]] = m[2].replace(/^["']|["']$/g, '');
  }
  return api;
}

function deriveUrl(opts) {
  const fileEnv = opts.envFile ? readEnvFile(opts.envFile) : {};
  const api = opts.config ? readApiSection(opts.config, opts.release) : {};
  const pick = (envName, key, dflt) => {
    if (process.env[envName] !== undefined) return String(process.env[envName]);
    if (fileEnv[envName] !== undefined) return fileEnv[envName];
    if (api[key] !== undefined && api[key] !== null) return String(api[key]);
    return dflt;
  };
  let host = pick('WAYS_EDGE_API_HOST', 'host', '0.0.0.0');
  const port = Number(pick('WAYS_EDGE_API_PORT', 'port', '8443'));
  const tls = !/^(false|0|no|off)$/i.test(pick('WAYS_EDGE_API_TLS', 'tls', 'true'));
  if (!Number.isInteger(port) || port <= 0) usage(`api.port is ${port}: set WAYS_EDGE_READY_URL`);
  if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::') host = '::1';
  if (host.includes(':')) host = `[${host}]`;
  return `${tls ? 'https' : 'http'}://${host}:${port}/readyz`;
}

function probeOnce(url) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? require('node:https') : require('node:http');
    const req = mod.get(u, { rejectUnauthorized: false, timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? 'ok' : `HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve(err.code || err.message));
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const url = opts.url || deriveUrl(opts);
  if (opts.printUrl) { process.stdout.write(url + '\n'); return; }
  const deadline = Date.now() + opts.timeout * 1000;
  let last = '';
  for (;;) {
    last = await probeOnce(url);
    if (last === 'ok') { process.stderr.write(`ways-edge: ready: ${url}\n`); return; }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  process.stderr.write(`ways-edge: not ready after ${opts.timeout}s: ${url} (last: ${last})\n`);
  process.exitCode = 1;
}

main();
