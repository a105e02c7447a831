import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import { Readable } from 'node:stream';
import { apiClient } from '../helpers/http.js';

interface ErrorBody { error: { code: string; message: string } }

t.test('no access without a valid key; the error format; no stack traces', async (t) => {
  const { gw, api } = await withGateway(t);
  const anon = apiClient(gw.baseUrl, gw.caPem, null);
  t.teardown(() => anon.close());
  for (const path of ['/v1/iot/devices', '/v1/iot/quota', '/v1/iot/usage', '/v1/iot/stats', '/v1/iot/credentials', '/v1/iot/keys', '/v1/iot/openapi.json']) {
    const res = await anon.get<ErrorBody>(path);
    t.equal(res.status, 401, `${path} needs a key`);
    t.equal(res.body.error.code, 'unauthorized');
  }
  const wrong = await anon.get<ErrorBody>('/v1/iot/quota', { key: 'wayscloud_iot_prod_' + 'A'.repeat(40) });
  t.equal(wrong.status, 401);
  t.equal(wrong.body.error.message, 'invalid or revoked API key');
  const basic = await anon.get('/v1/iot/quota', { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
  t.equal(basic.status, 401);
  t.equal((await anon.get('/healthz')).status, 200, '/healthz is open');
  t.equal((await anon.get('/readyz')).status, 200, '/readyz is open and ready');

  const res = await api.get('/v1/iot/nothing-here');
  t.equal(res.status, 404);
  t.notMatch(res.text, /at .*\.js:\d+/, 'no stack trace');
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.notOk(res.headers['access-control-allow-origin'], 'no CORS');
});

t.test('scopes: read keys read, only admin keys act, mqtt-only keys cannot use the API', async (t) => {
  const { gw, api } = await withGateway(t);
  const mk = async (name: string, scopes: string[]): Promise<string> => {
    const res = await api.post<{ key: string; name: string; scopes: string[] }>('/v1/iot/keys', { name, scopes });
    t.equal(res.status, 201);
    t.match(res.body.key, /^wayscloud_iot_prod_[0-9A-Za-z]{40}$/);
    t.same(res.body.scopes, scopes);
    return res.body.key;
  };
  const reader = apiClient(gw.baseUrl, gw.caPem, await mk('dashboard', ['read']));
  const mqttOnly = apiClient(gw.baseUrl, gw.caPem, await mk('node-red', ['mqtt']));
  t.teardown(async () => { await reader.close(); await mqttOnly.close(); });

  t.equal((await reader.get('/v1/iot/devices')).status, 200);
  t.equal((await reader.get('/v1/iot/stats')).status, 200);
  const denied = await reader.post<ErrorBody>('/v1/iot/devices', { name: 'x', type: 'sensor' });
  t.equal(denied.status, 403);
  t.equal(denied.body.error.code, 'forbidden');
  t.equal((await reader.get('/v1/iot/keys')).status, 403, 'listing keys is for admins');
  t.equal((await mqttOnly.get('/v1/iot/devices')).status, 403);

  const list = await api.get<{ keys: Array<Record<string, unknown>> }>('/v1/iot/keys');
  t.same(list.body.keys.map((k) => k.name), ['admin', 'dashboard', 'node-red']);
  t.notOk(list.text.includes('wayscloud_iot_prod_'), 'keys are never listed');
  t.notOk(list.text.includes('sha256'), 'nor their hashes');

  t.equal((await api.post('/v1/iot/keys', { name: 'dashboard', scopes: ['read'] })).status, 409, 'duplicate name');
  t.equal((await api.post('/v1/iot/keys', { name: 'x', scopes: ['root'] })).status, 400, 'unknown scope');
  t.equal((await api.post('/v1/iot/keys', { name: 'bad name', scopes: ['read'] })).status, 400);
  t.equal((await api.post('/v1/iot/keys', { name: 'y', scopes: ['read'], key: 'wayscloud_iot_prod_chosen' })).status, 400, 'a client cannot choose its key');

  t.equal((await api.delete('/v1/iot/keys/dashboard')).status, 204);
  t.equal((await reader.get('/v1/iot/devices')).status, 401, 'a revoked key is refused at once');
  t.equal((await api.delete('/v1/iot/keys/dashboard')).status, 404);
  const last = await api.delete<ErrorBody>('/v1/iot/keys/admin');
  t.equal(last.status, 409, 'the last admin key cannot be revoked');
});

t.test('rate limit per key: burst, then 429 with Retry-After; other keys unaffected', async (t) => {
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_API_RATE_LIMIT_PER_MINUTE: '60', WAYS_EDGE_API_RATE_LIMIT_BURST: '5' } });
  const other = apiClient(gw.baseUrl, gw.caPem, (await api.post<{ key: string }>('/v1/iot/keys', { name: 'other', scopes: ['read'] })).body.key);
  t.teardown(() => other.close());
  // One request was spent creating the key: 65 - 1 remain.
  const statuses: number[] = [];
  const t0 = Date.now();
  let last = await api.get<ErrorBody>('/v1/iot/quota');
  statuses.push(last.status);
  t.equal(last.headers['x-ratelimit-limit'], '60');
  while (last.status === 200 && statuses.length < 100) { last = await api.get<ErrorBody>('/v1/iot/quota'); statuses.push(last.status); }
  t.equal(last.status, 429);
  // 60/min + burst 5 = 65 at once, one used before; the bucket refills 1/s while the loop runs.
  const allowed = statuses.filter((s) => s === 200).length;
  const refilled = Math.ceil((Date.now() - t0) / 1000);
  t.ok(allowed >= 64 && allowed <= 64 + refilled, `${allowed} requests allowed (64 + up to ${refilled} refilled)`);
  t.equal(last.body.error.code, 'rate_limited');
  t.ok(Number(last.headers['retry-after']) >= 1, 'Retry-After given');
  t.equal(last.headers['x-ratelimit-remaining'], '0');
  t.equal((await other.get('/v1/iot/quota')).status, 200, 'another key has its own bucket');
});

t.test('bodies over 1 MB get 413, whatever the Content-Length says', async (t) => {
  const { api } = await withGateway(t);
  const big = JSON.stringify({ name: 'x', type: 'sensor', metadata: { blob: 'y'.repeat(1024 * 1024) } });
  const res = await api.raw('POST', '/v1/iot/devices', { rawBody: big, headers: { 'content-type': 'application/json' } });
  t.equal(res.status, 413);
  t.equal((res.body as ErrorBody).error.code, 'payload_too_large');
  const chunked = await api.raw('POST', '/v1/iot/devices', { rawBody: Readable.from([Buffer.from(big)]), headers: { 'content-type': 'application/json' } });
  t.equal(chunked.status, 413, 'also when streamed without a length');
  t.equal((await api.get<{ total: number }>('/v1/iot/devices')).body.total, 0);
});
