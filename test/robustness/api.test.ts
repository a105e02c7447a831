import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import { apiClient, type HttpResponse } from '../helpers/http.js';
import { registerDevice } from '../helpers/devices.js';

/**
 * The REST API against the OWASP API Security Top 10 (2023), where it applies to a LAN gateway with
 * API keys. What test/api/auth.test.ts and devices.test.ts already show (no key → 401, scopes, a revoked
 * key refused at once over HTTP, rate limit, 413, unknown fields on POST/PATCH) is not repeated here.
 */

/** A stack frame, a source path, or a secret: nothing of the kind belongs in an error body. */
const LEAKS: Array<[string, RegExp]> = [
  ['a stack frame', /\bat (?:async )?[\w.<>$]+ \(|\.(?:js|ts):\d+:\d+/],
  ['an API key', /wayscloud_iot_prod_[0-9A-Za-z]{20,}/],
  ['a password hash', /scrypt\$\d+\$|sha256\$[A-Za-z0-9+/]{22}==\$/],
  ['a file path', /\/(?:tmp|work|home|var|etc|usr)\//],
  ['an internal error name', /\b(?:TypeError|ReferenceError|ModuleError|LEVEL_[A-Z_]+|ECONN\w+|ENOENT)\b/],
];

interface ErrorBody { error?: { code?: string; message?: string } }

t.test('REST API: no leak in any error, no mass assignment, bounded pages, security headers, no CORS', async (t) => {
  const { gw, api } = await withGateway(t);
  const anon = apiClient(gw.baseUrl, gw.caPem, null);
  t.teardown(() => anon.close());
  const device = await registerDevice(api, 'owasp-device');
  const readKey = (await api.post<{ key: string }>('/v1/iot/keys', { name: 'reader', scopes: ['read'] })).body.key;
  const reader = apiClient(gw.baseUrl, gw.caPem, readKey);
  t.teardown(() => reader.close());
  const errors: Array<{ what: string; res: HttpResponse }> = [];
  const keep = <T>(what: string, res: HttpResponse<T>): HttpResponse<T> => { if (res.status >= 400) errors.push({ what, res: res as HttpResponse }); return res; };
  const json = { 'content-type': 'application/json' };

  await t.test('API1/API5 — object and function level: a read key changes nothing, anywhere', async (t) => {
    const id = device.device_id;
    for (const [method, path, body] of [
      ['POST', `/v1/iot/devices/${id}/credentials/rotate`, undefined], ['POST', `/v1/iot/devices/${id}/commands`, { command: 'reboot' }],
      ['PUT', `/v1/iot/devices/${id}/config`, { a: 1 }], ['POST', `/v1/iot/devices/${id}/firmware`, { version: '1', url: 'https://x/y' }],
      ['PATCH', `/v1/iot/devices/${id}`, { status: 'disabled' }], ['DELETE', `/v1/iot/devices/${id}`, undefined], ['POST', '/v1/iot/keys', { name: 'mine', scopes: ['admin'] }],
      ['DELETE', '/v1/iot/keys/admin', undefined],
    ] as Array<[string, string, unknown]>) {
      const res = keep(`${method} ${path} (read key)`, await reader.raw(method, path, body === undefined ? {} : { rawBody: JSON.stringify(body), headers: json }));
      t.equal(res.status, 403, `${method} ${path} → 403`);
    }
    t.equal((await api.get<{ status: string }>(`/v1/iot/devices/${id}`)).body.status, 'active', 'the device is untouched');
  });

  await t.test('API2 — authentication: the key only in the Authorization header; malformed headers refused', async (t) => {
    const key = gw.adminKey;
    for (const [what, res] of [
      ['key in the query string', await anon.get(`/v1/iot/devices?api_key=${key}&access_token=${key}`)],
      ['key as a cookie', await anon.get('/v1/iot/devices', { headers: { cookie: `api_key=${key}` } })],
      ['key in X-API-Key', await anon.get('/v1/iot/devices', { headers: { 'x-api-key': key } })],
      ['Bearer with two tokens', await anon.get('/v1/iot/devices', { headers: { authorization: `Bearer ${key} ${key}` } })],
      ['a truncated key', await anon.get('/v1/iot/devices', { headers: { authorization: `Bearer ${key.slice(0, -1)}` } })],
      ['the key with a byte more', await anon.get('/v1/iot/devices', { headers: { authorization: `Bearer ${key}x` } })],
      ['a 64 KB token', await anon.get('/v1/iot/devices', { headers: { authorization: `Bearer ${'A'.repeat(16_000)}` } })],
    ] as Array<[string, HttpResponse]>) {
      keep(what, res);
      t.ok(res.status === 401 || res.status === 431, `${what} → ${res.status}`);
    }
    t.equal((await anon.get('/metrics')).status, 401, '/metrics needs a key too');
  });

  await t.test('API3 — mass assignment: server-owned fields are refused on every write', async (t) => {
    const id = device.device_id;
    const serverOwned = { device_id: 'iot_dev_chosenbyme01', mqtt_credentials: { password: 'p' }, password: 'p', password_hash: 'scrypt$1$1$1$a$b', created_at: '2000-01-01T00:00:00Z', updated_at: '2000-01-01T00:00:00Z', created_ms: 1, messages_in: 5, bytes_in: 5, online: true, last_seen: '2000-01-01T00:00:00Z' };
    for (const [field, value] of Object.entries(serverOwned)) {
      const create = keep(`POST with ${field}`, await api.post<ErrorBody>('/v1/iot/devices', { name: `mass-${field}`, type: 'sensor', [field]: value }));
      t.equal(create.status, 400, `POST /devices with ${field} → 400`);
      const patch = keep(`PATCH with ${field}`, await api.patch<ErrorBody>(`/v1/iot/devices/${id}`, { name: 'renamed', [field]: value }));
      t.equal(patch.status, 400, `PATCH /devices/{id} with ${field} → 400`);
    }
    for (const body of [{ name: 'k2', scopes: ['read'], key: 'wayscloud_iot_prod_' + 'a'.repeat(40) }, { name: 'k3', scopes: ['read'], sha256: 'ab' }, { name: 'k4', scopes: ['read'], created_at: 'x' }]) {
      t.equal(keep('POST /keys with a server field', await api.post('/v1/iot/keys', body)).status, 400, `POST /keys ${Object.keys(body).at(-1)} → 400`);
    }
    // A prototype-polluting body changes nothing, in the stored device or in the gateway's objects.
    const proto = await api.raw('POST', '/v1/iot/devices', { rawBody: '{"name":"proto","type":"sensor","metadata":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}', headers: json });
    t.ok([201, 400].includes(proto.status), `a body with __proto__ keys: ${proto.status}`);
    t.equal(({} as { polluted?: unknown }).polluted, undefined, 'Object.prototype is not polluted');
    const detail = await api.get<Record<string, unknown>>(`/v1/iot/devices/${id}`);
    t.match(detail.body, { device_id: id, status: 'active', messages_in: 0 }, 'the device kept its server-owned fields');
    t.equal(detail.body.name, 'owasp-device', 'and no refused PATCH changed even its name');
  });

  await t.test('API4 — resource consumption: page size and date ranges are bounded', async (t) => {
    for (const q of ['limit=101', 'limit=1000000', 'limit=-1', 'limit=1e3', 'offset=abc', 'limit=50&limit=100']) {
      t.equal(keep(`GET /devices?${q}`, await api.get<ErrorBody>(`/v1/iot/devices?${q}`)).status, 400, `?${q} → 400`);
    }
    t.equal((await api.get('/v1/iot/devices?limit=100')).status, 200, 'limit=100 is the largest page');
    t.equal(keep('usage range', await api.get('/v1/iot/usage?start_date=2000-01-01&end_date=2030-01-01')).status, 400, 'a usage range over 366 days → 400');
    t.equal(keep('usage date', await api.get('/v1/iot/usage?start_date=2025-13-45&end_date=x')).status, 400, 'an invalid date → 400');
    const deep = `{"name":"deep","type":"sensor","metadata":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`;
    const deepRes = keep('deeply nested body', await api.raw('POST', '/v1/iot/devices', { rawBody: deep, headers: json }));
    t.equal(deepRes.status, 400, `a body nested 5,000 levels deep → ${deepRes.status}`);
    t.equal((await api.get('/healthz')).status, 200, 'the API is fine afterwards');
  });

  await t.test('API8 — misconfiguration: security headers everywhere, no CORS for any origin, no TRACE', async (t) => {
    const evil = { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' };
    for (const path of ['/v1/iot/devices', '/v1/iot/keys', '/metrics', '/healthz', '/']) {
      const pre = await api.raw('OPTIONS', path, { headers: evil });
      t.notOk(pre.headers['access-control-allow-origin'], `OPTIONS ${path} from an evil origin: no Access-Control-Allow-Origin (${pre.status})`);
      t.notOk(pre.headers['access-control-allow-credentials'], 'and no Allow-Credentials');
      const get = await api.get(path, { headers: { origin: 'https://evil.example' } });
      t.notOk(get.headers['access-control-allow-origin'], `GET ${path} with an Origin: no Access-Control-Allow-Origin`);
    }
    const responses: Array<[string, HttpResponse]> = [
      ['JSON', await api.get('/v1/iot/devices')], ['401', await anon.get('/v1/iot/devices')], ['404', await api.get('/v1/iot/nope')],
      ['413', await api.raw('POST', '/v1/iot/devices', { rawBody: 'x'.repeat(1_100_000), headers: json })], ['dashboard', await anon.get('/')],
      ['healthz', await anon.get('/healthz')], ['metrics', await api.get('/metrics')],
    ];
    for (const [what, res] of responses) {
      keep(what, res);
      t.match(res.headers, {
        'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer',
        'strict-transport-security': /max-age=\d+/, 'content-security-policy': /frame-ancestors 'none'/,
      }, `security headers on ${what} (${res.status})`);
      t.notOk(res.headers['x-powered-by'], `no X-Powered-By on ${what}`);
      t.notMatch(res.headers.server ?? '', /\d/, `no server version on ${what}`);
    }
    t.equal((await api.get('/v1/iot/devices')).headers['cache-control'], 'no-store', 'API answers are not cached');
    const trace = keep('TRACE', await api.raw('TRACE', '/v1/iot/devices', {}));
    t.ok([404, 405, 501].includes(trace.status), `TRACE → ${trace.status}`);
    t.notMatch(trace.text, gw.adminKey, 'TRACE does not echo the request');
  });

  await t.test('API8/API10 — every error body: the error format, no stack, no secret, no path', async (t) => {
    keep('bad JSON', await api.raw('POST', '/v1/iot/devices', { rawBody: '{"name":', headers: json }));
    keep('wrong content type', await api.raw('POST', '/v1/iot/devices', { rawBody: 'name=x', headers: { 'content-type': 'text/plain' } }));
    keep('405', await api.raw('PUT', '/v1/iot/devices', { rawBody: '{}', headers: json }));
    keep('unknown device', await api.get('/v1/iot/devices/iot_dev_000000000000'));
    keep('odd id', await api.get('/v1/iot/devices/..%2F..%2Fsecrets%00'));
    keep('409', await api.post('/v1/iot/devices', { name: 'owasp-device', type: 'sensor' }));
    keep('NUL in JSON', await api.raw('POST', '/v1/iot/devices', { rawBody: '{"name":"a\\u0000b","type":"sensor\u0000"}', headers: json }));
    keep('array body', await api.raw('POST', '/v1/iot/keys', { rawBody: '[]', headers: json }));
    keep('bad scopes', await api.post('/v1/iot/keys', { name: 'x', scopes: 'admin' }));
    keep('command to nobody', await api.post('/v1/iot/devices/iot_dev_000000000000/commands', { command: 'x' }));
    t.ok(errors.length >= 40, `${errors.length} error responses collected from every test above`);
    for (const { what, res } of errors) {
      if (res.status === 431 || res.status === 414) continue; // Node's own refusals of oversized headers, before the app
      const body = res.body as ErrorBody | undefined;
      t.ok(typeof body?.error?.code === 'string' && typeof body.error.message === 'string', `${what}: {"error": {code, message}}`);
      for (const [name, pattern] of LEAKS) t.notMatch(res.text, pattern, `${what}: no ${name}`);
    }
  });
});
