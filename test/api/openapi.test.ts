import t from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { withGateway } from '../helpers/fixture.js';
import type { HttpResponse } from '../helpers/http.js';

type Json = Record<string, unknown>;

/** Rewrites local refs so that response schemas compile against the document registered as "doc". */
function rebase(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rebase);
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `doc${v}` : rebase(v)]));
  }
  return node;
}

/** `/v1/iot/devices/:id` and `/devices/{device_id}` both become `/devices/{}`. */
const normalise = (path: string): string => path.replace(/^\/v1\/iot/, '').replace(/:[^/]+|\{[^}]+\}/g, '{}');

t.test('the OpenAPI document covers every route, and responses match it', async (t) => {
  const { gw, api } = await withGateway(t);
  const res = await api.get<Json>('/v1/iot/openapi.json');
  t.equal(res.status, 200);
  const doc = res.body;
  t.equal(doc.openapi, '3.1.0');
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const documented = new Set(Object.entries(paths).flatMap(([p, ops]) => Object.keys(ops).filter((m) => m !== 'servers' && m !== 'parameters').map((m) => `${m.toUpperCase()} ${normalise(p)}`)));

  const served = new Set(gw.gateway.apiRoutes.map((r) => `${r.method} ${normalise(r.path)}`));
  for (const route of served) t.ok(documented.has(route), `served route ${route} is documented`);
  for (const route of documented) t.ok(served.has(route), `documented route ${route} is served`);

  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addSchema({ $id: 'doc', components: rebase(doc.components) });
  const exercised = new Set<string>();

  function check(method: string, docPath: string, r: HttpResponse): void {
    const key = `${method} ${normalise(docPath)}`;
    exercised.add(key);
    const op = paths[docPath]?.[method.toLowerCase()];
    if (!op) { t.fail(`${key} is not documented`); return; }
    const response = (op.responses as Record<string, Json>)[String(r.status)];
    if (!response) { t.fail(`${key}: status ${r.status} is not documented (${r.text.slice(0, 200)})`); return; }
    // Bodies that are not JSON (metrics, the dashboard's files, the event stream): the content type must be a documented one.
    const types = Object.keys((response.content as Json | undefined) ?? {});
    if (types.length > 0 && !types.includes('application/json')) {
      t.ok(types.some((type) => (r.headers['content-type'] ?? '').startsWith(type)), `${key} ${r.status} is ${r.headers['content-type']}, one of ${types.join(', ')} as documented`);
      return;
    }
    const schema = ((response.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema;
    if (!schema) { t.equal(r.text, '', `${key} ${r.status}: no body documented, none sent`); return; }
    const validate = ajv.compile(rebase(schema) as Json);
    t.ok(validate(r.body), `${key} ${r.status} matches the documented schema ${JSON.stringify(validate.errors ?? [])}`);
  }

  const created = await api.post<{ device_id: string }>('/v1/iot/devices', { name: 'Doc', type: 'sensor', metadata: { a: 1 } });
  const id = created.body.device_id;
  check('POST', '/devices', created);
  check('POST', '/devices', await api.post('/v1/iot/devices', { name: 'Doc', type: 'sensor' }));
  check('POST', '/devices', await api.post('/v1/iot/devices', { type: 'sensor' }));
  check('GET', '/devices', await api.get('/v1/iot/devices?limit=10'));
  check('GET', '/devices', await api.get('/v1/iot/devices?limit=1000'));
  check('GET', '/devices/{device_id}', await api.get(`/v1/iot/devices/${id}`));
  check('GET', '/devices/{device_id}', await api.get('/v1/iot/devices/iot_dev_nope'));
  check('PATCH', '/devices/{device_id}', await api.patch(`/v1/iot/devices/${id}`, { description: 'documented' }));
  check('GET', '/credentials', await api.get('/v1/iot/credentials'));
  check('GET', '/quota', await api.get('/v1/iot/quota'));
  check('GET', '/usage', await api.get('/v1/iot/usage?start_date=2025-10-29&end_date=2025-11-05'));
  check('GET', '/usage', await api.get('/v1/iot/usage?start_date=2025-13-01'));
  check('GET', '/stats', await api.get('/v1/iot/stats'));
  check('GET', '/openapi.json', res);
  check('POST', '/keys', await api.post('/v1/iot/keys', { name: 'doc', scopes: ['read'] }));
  check('GET', '/keys', await api.get('/v1/iot/keys'));
  check('DELETE', '/keys/{name}', await api.delete('/v1/iot/keys/doc'));
  check('GET', '/healthz', await api.get('/healthz'));
  check('GET', '/readyz', await api.get('/readyz'));
  check('GET', '/metrics', await api.get('/metrics'));
  check('GET', '/metrics', await api.get('/metrics', { key: null }));
  check('GET', '/devices', await api.get('/v1/iot/devices', { key: null }));
  // The event stream never ends, so its 200 is checked in test/web/events.test.ts; the dashboard may be unbuilt (404).
  check('GET', '/events', await api.get('/v1/iot/events', { key: null }));
  check('GET', '/', await api.get('/'));
  check('GET', '/assets/{file}', await api.get('/assets/no-such-file.js'));
  // Cloud→device messages (src/api/routes/device-messages.ts).
  check('POST', '/devices/{device_id}/commands', await api.post(`/v1/iot/devices/${id}/commands`, { command: 'reboot', params: { delay_s: 5 } }));
  check('POST', '/devices/{device_id}/commands', await api.post(`/v1/iot/devices/${id}/commands`, { params: {} }));
  check('POST', '/devices/{device_id}/commands', await api.post('/v1/iot/devices/iot_dev_nope/commands', { command: 'x' }));
  check('GET', '/devices/{device_id}/config', await api.get(`/v1/iot/devices/${id}/config`));
  check('PUT', '/devices/{device_id}/config', await api.put(`/v1/iot/devices/${id}/config`, { interval_s: 30 }));
  check('PUT', '/devices/{device_id}/config', await api.put(`/v1/iot/devices/${id}/config`, [1]));
  check('GET', '/devices/{device_id}/config', await api.get(`/v1/iot/devices/${id}/config`));
  check('POST', '/devices/{device_id}/firmware', await api.post(`/v1/iot/devices/${id}/firmware`, { version: '1.0.1', url: 'https://updates.example.com/fw.bin' }));
  check('POST', '/devices/{device_id}/firmware', await api.post(`/v1/iot/devices/${id}/firmware`, { version: '1.0.1', url: 'ftp://x' }));
  check('POST', '/devices/{device_id}/credentials/rotate', await api.post(`/v1/iot/devices/${id}/credentials/rotate`));
  check('POST', '/devices/{device_id}/credentials/rotate', await api.post('/v1/iot/devices/iot_dev_nope/credentials/rotate'));
  check('DELETE', '/devices/{device_id}', await api.delete(`/v1/iot/devices/${id}`));

  for (const route of documented) t.ok(exercised.has(route), `documented route ${route} was exercised by this test`);
});
