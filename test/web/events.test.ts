import t, { type Test } from 'tap';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import type { ApiClient } from '../helpers/http.js';
import type { TestGateway } from '../helpers/gateway.js';
import { connectDevice, createKey } from '../broker/mqtt-helpers.js';
import { openEvents, type SseStream } from './sse-client.js';

type Json = Record<string, unknown>;

/** Validators for each event's data, from the served OpenAPI document's x-events (so the document stays true). */
async function eventSchemas(api: ApiClient): Promise<(event: string, data: unknown) => string | null> {
  const doc = (await api.get<Json>('/v1/iot/openapi.json')).body;
  const rebase = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rebase);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? `doc${v}` : rebase(v)]));
    return node;
  };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addSchema({ $id: 'doc', components: rebase(doc.components) });
  const get = ((doc.paths as Json)['/events'] as Json).get as Json;
  const validators = new Map<string, ValidateFunction>();
  for (const [name, schema] of Object.entries(get['x-events'] as Json)) validators.set(name, ajv.compile(rebase(schema) as Json));
  return (event, data) => {
    const validate = validators.get(event);
    if (!validate) return `event ${event} is not in x-events`;
    return validate(data) ? null : JSON.stringify(validate.errors);
  };
}

async function open(t: Test, gw: TestGateway, key: string | null = gw.adminKey, query = ''): Promise<SseStream> {
  const s = await openEvents(gw.baseUrl, gw.caPem, key, query);
  t.teardown(() => s.close());
  return s;
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('GET /events needs an API key; a read key gets a text/event-stream that starts with hello', async (t) => {
  const { gw, api } = await withGateway(t);
  const check = await eventSchemas(api);
  const anonymous = await open(t, gw, null);
  t.equal(anonymous.status, 401);
  const readKey = await createKey(api, 'viewer', ['read']);
  const s = await open(t, gw, readKey);
  t.equal(s.status, 200);
  t.match(s.headers['content-type'], /^text\/event-stream/);
  t.equal(s.headers['cache-control'], 'no-store');
  const hello = await s.next('hello') as { live: { devices: { total: number } }; tick_ms: number };
  t.equal(check('hello', hello), null, 'hello matches the documented schema');
  t.equal(hello.tick_ms, 2000);
  t.equal(gw.gateway.events.size, 1);
});

t.test('registry changes arrive as device.created, device.updated and device.deleted', async (t) => {
  const { gw, api } = await withGateway(t);
  const check = await eventSchemas(api);
  const s = await open(t, gw);
  await s.next('hello');
  const device = await registerDevice(api, 'Events Sensor');
  const created = await s.next('device.created') as Json;
  t.equal(check('device.created', created), null);
  t.match(created, { device_id: device.device_id, name: 'Events Sensor', status: 'active', online: false });
  t.notOk('password_hash' in created, 'no secret goes out');
  await api.patch(`/v1/iot/devices/${device.device_id}`, { status: 'disabled' });
  const updated = await s.next('device.updated') as Json;
  t.equal(check('device.updated', updated), null);
  t.equal(updated.status, 'disabled');
  await api.delete(`/v1/iot/devices/${device.device_id}`);
  const deleted = await s.next('device.deleted');
  t.equal(check('device.deleted', deleted), null);
  t.same(deleted, { device_id: device.device_id });
});

t.test('a device connecting and disconnecting arrives as device.online and device.offline; its page gets device.rate', async (t) => {
  const { gw, api } = await withGateway(t);
  const check = await eventSchemas(api);
  const device = await registerDevice(api);
  const s = await open(t, gw, gw.adminKey, `?device_id=${device.device_id}`);
  await s.next('hello');
  const client = await connectDevice(t, { port: gw.gateway.mqttPort, caPem: gw.caPem }, device);
  const online = await s.next('device.online');
  t.equal(check('device.online', online), null);
  t.match(online, { device_id: device.device_id, online: true });
  for (let i = 0; i < 10; i++) await client.publishAsync(`devices/${device.device_id}/telemetry`, JSON.stringify({ i }), { qos: 1 });
  const rate = await s.next('device.rate', (r: { in_per_sec: number }) => r.in_per_sec > 0, 8_000) as { today: { messages_in: number } };
  t.equal(check('device.rate', rate), null);
  t.equal(rate.today.messages_in, 10, 'today\'s counters come with the rate');
  const stats = await s.next('stats', (st: { messages: { in_per_sec: number } | null }) => (st.messages?.in_per_sec ?? 0) > 0, 8_000);
  t.equal(check('stats', stats), null, 'stats matches the documented schema');
  t.match(stats, { devices: { total: 1, online: 1 }, uplink: { state: 'disabled' } });
  await client.endAsync();
  const offline = await s.next('device.offline');
  t.equal(check('device.offline', offline), null);
  t.match(offline, { device_id: device.device_id, online: false });
});

t.test('?device_id must name a device', async (t) => {
  const { gw } = await withGateway(t);
  const s = await open(t, gw, gw.adminKey, '?device_id=iot_dev_nonexistent0');
  t.equal(s.status, 404);
  t.equal(gw.gateway.events.size, 0, 'no stream was opened');
});

t.test('at most 20 streams are open at once; more get a 503 with Retry-After; closing frees the slot', async (t) => {
  const { gw } = await withGateway(t);
  const streams: SseStream[] = [];
  for (let i = 0; i < 20; i++) streams.push(await open(t, gw));
  t.ok(streams.every((s) => s.status === 200));
  const refused = await open(t, gw);
  t.equal(refused.status, 503);
  t.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After is set');
  t.match(refused.events[0]?.data, { error: { code: 'busy' } }, 'busy, not "not ready": the gateway is fine, the slots are taken');
  await streams.pop()?.close();
  await until('the closed stream to leave the hub', () => gw.gateway.events.size === 19);
  const again = await open(t, gw);
  t.equal(again.status, 200);
  for (const s of streams) await s.close();
  await again.close();
  await until('every stream to leave the hub', () => gw.gateway.events.size === 0);
  t.pass('listeners are cleaned up when clients go');
});
