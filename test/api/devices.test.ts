import t from 'tap';
import { withGateway } from '../helpers/fixture.js';

const seedBody = {
  name: 'Temperature Sensor 01',
  description: 'Living room temperature sensor',
  type: 'sensor',
  metadata: { location: 'living_room', model: 'DHT22' },
};

interface Created { device_id: string; name: string; type: string; status: string; mqtt_credentials: { username: string; password: string; client_id: string }; created_at: string }
interface ErrorBody { error: { code: string; message: string; details?: Array<{ field: string; reason: string }> } }

t.test('register a device: the seed response, to the field', async (t) => {
  const { api } = await withGateway(t);
  const res = await api.post<Created>('/v1/iot/devices', seedBody);
  t.equal(res.status, 201);
  const d = res.body;
  t.same(Object.keys(d).sort(), ['created_at', 'device_id', 'mqtt_credentials', 'name', 'status', 'type']);
  t.match(d.device_id, /^iot_dev_[a-z0-9]{12}$/);
  t.ok(d.device_id.length <= 23, 'fits MQTT 3.1 client id limit');
  t.equal(d.name, seedBody.name);
  t.equal(d.type, 'sensor');
  t.equal(d.status, 'active');
  t.same(Object.keys(d.mqtt_credentials).sort(), ['client_id', 'password', 'username']);
  t.equal(d.mqtt_credentials.username, d.device_id);
  t.equal(d.mqtt_credentials.client_id, d.device_id);
  t.match(d.mqtt_credentials.password, /^[0-9A-Za-z]{32}$/, 'password: 32 base62 characters (>128 bits)');
  t.match(d.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'ISO 8601 UTC like the seed');
  t.equal(res.headers.location, `/v1/iot/devices/${d.device_id}`);

  const detail = await api.get<Record<string, unknown>>(`/v1/iot/devices/${d.device_id}`);
  t.equal(detail.status, 200);
  t.equal(detail.body.description, seedBody.description);
  t.same(detail.body.metadata, seedBody.metadata);
  t.equal(detail.body.online, false, 'not connected');
  t.equal(detail.body.last_seen, null);
  t.equal(detail.body.messages_in, 0);
  t.notOk('password' in detail.body || 'password_hash' in detail.body || 'mqtt_credentials' in detail.body, 'the password is shown only at registration');
});

t.test('registration input is validated field by field', async (t) => {
  const { api } = await withGateway(t);
  const cases: Array<[unknown, string]> = [
    [{ type: 'sensor' }, 'name'],
    [{ name: 'x' }, 'type'],
    [{ name: '', type: 'sensor' }, 'name'],
    [{ name: 5, type: 'sensor' }, 'name'],
    [{ name: 'x'.repeat(129), type: 'sensor' }, 'name'],
    [{ name: 'x', type: 'has space' }, 'type'],
    [{ name: 'x', type: 'sensor', metadata: [] }, 'metadata'],
    [{ name: 'x', type: 'sensor', metadata: { blob: 'y'.repeat(20000) } }, 'metadata'],
    [{ name: 'x', type: 'sensor', device_id: 'iot_dev_mine' }, 'device_id'],
    [{ name: 'x', type: 'sensor', mqtt_credentials: { password: 'p' } }, 'mqtt_credentials'],
    [{ name: 'x', type: 'sensor', status: 'disabled' }, 'status'],
    [[1, 2], 'body'],
  ];
  for (const [body, field] of cases) {
    const res = await api.post<ErrorBody>('/v1/iot/devices', body);
    t.equal(res.status, 400, `${JSON.stringify(body).slice(0, 60)} → 400`);
    t.equal(res.body.error.code, 'validation_failed');
    t.equal(res.body.error.details?.[0]?.field, field, `names the field ${field}`);
    t.match(res.body.error.message, new RegExp(`^${field}: `));
  }
  const bad = await api.raw('POST', '/v1/iot/devices', { rawBody: '{"name": "x",', headers: { 'content-type': 'application/json' } });
  t.equal(bad.status, 400);
  t.equal((bad.body as ErrorBody).error.code, 'invalid_json');
  const form = await api.raw('POST', '/v1/iot/devices', { rawBody: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.equal(form.status, 415);
  const list = await api.get<{ total: number }>('/v1/iot/devices');
  t.equal(list.body.total, 0, 'nothing was created by the bad requests');
});

t.test('names are unique: a second device with the same name is a 409', async (t) => {
  const { api } = await withGateway(t);
  t.equal((await api.post('/v1/iot/devices', { name: 'Boiler', type: 'sensor' })).status, 201);
  const again = await api.post<ErrorBody>('/v1/iot/devices', { name: 'Boiler', type: 'actuator' });
  t.equal(again.status, 409);
  t.equal(again.body.error.code, 'conflict');
});

t.test('list: pagination, total and filters', async (t) => {
  const { api } = await withGateway(t);
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    const res = await api.post<Created>('/v1/iot/devices', { name: `Dev ${i}`, type: i % 2 === 0 ? 'sensor' : 'valve' });
    ids.push(res.body.device_id);
  }
  const page1 = await api.get<{ devices: Array<{ device_id: string }>; total: number; limit: number; offset: number }>('/v1/iot/devices?limit=3&offset=0');
  const page2 = await api.get<{ devices: Array<{ device_id: string }>; total: number }>('/v1/iot/devices?limit=3&offset=3');
  const page3 = await api.get<{ devices: Array<{ device_id: string }>; total: number }>('/v1/iot/devices?limit=3&offset=6');
  t.equal(page1.body.total, 7);
  t.equal(page1.body.limit, 3);
  t.same([...page1.body.devices, ...page2.body.devices, ...page3.body.devices].map((d) => d.device_id), ids, 'pages cover every device once, in registration order');
  const sensors = await api.get<{ devices: Array<{ type: string }>; total: number }>('/v1/iot/devices?type=sensor');
  t.equal(sensors.body.total, 4);
  t.ok(sensors.body.devices.every((d) => d.type === 'sensor'));
  const dflt = await api.get<{ limit: number; offset: number }>('/v1/iot/devices');
  t.same([dflt.body.limit, dflt.body.offset], [50, 0], 'default page is 50 from 0');
  for (const [q, field] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=abc', 'limit'], ['offset=-1', 'offset'], ['status=gone', 'status']]) {
    const res = await api.get<ErrorBody>(`/v1/iot/devices?${q}`);
    t.equal(res.status, 400, `${q} → 400`);
    t.equal(res.body.error.details?.[0]?.field, field);
  }
});

t.test('update and delete; 404 for unknown devices', async (t) => {
  const { api } = await withGateway(t);
  const d = (await api.post<Created>('/v1/iot/devices', { name: 'Door', type: 'contact' })).body;
  const patched = await api.patch<Record<string, unknown>>(`/v1/iot/devices/${d.device_id}`, { name: 'Front door', status: 'disabled', metadata: { floor: 1 } });
  t.equal(patched.status, 200);
  t.equal(patched.body.name, 'Front door');
  t.equal(patched.body.status, 'disabled');
  t.same(patched.body.metadata, { floor: 1 });
  t.equal(patched.body.type, 'contact', 'fields not sent stay');
  const disabled = await api.get<{ total: number }>('/v1/iot/devices?status=disabled');
  t.equal(disabled.body.total, 1);

  for (const body of [{}, { status: 'paused' }, { device_id: 'x' }, { created_at: '2020-01-01T00:00:00Z' }]) {
    t.equal((await api.patch(`/v1/iot/devices/${d.device_id}`, body)).status, 400, `PATCH ${JSON.stringify(body)} → 400`);
  }
  t.equal((await api.delete(`/v1/iot/devices/${d.device_id}`)).status, 204);
  for (const res of [
    await api.get<ErrorBody>(`/v1/iot/devices/${d.device_id}`),
    await api.patch<ErrorBody>(`/v1/iot/devices/${d.device_id}`, { name: 'x' }),
    await api.delete<ErrorBody>(`/v1/iot/devices/${d.device_id}`),
    await api.get<ErrorBody>('/v1/iot/devices/iot_dev_doesnotexist'),
  ]) {
    t.equal(res.status, 404);
    t.equal(res.body.error.code, 'not_found');
  }
});

t.test('the device quota is enforced', async (t) => {
  const { api } = await withGateway(t, { env: { WAYS_EDGE_QUOTA_MAX_DEVICES: '2' } });
  t.equal((await api.post('/v1/iot/devices', { name: 'a', type: 's' })).status, 201);
  t.equal((await api.post('/v1/iot/devices', { name: 'b', type: 's' })).status, 201);
  const third = await api.post<ErrorBody>('/v1/iot/devices', { name: 'c', type: 's' });
  t.equal(third.status, 403);
  t.equal(third.body.error.code, 'quota_exceeded');
  const quota = await api.get<Record<string, number>>('/v1/iot/quota');
  t.equal(quota.body.max_devices, 2);
  t.equal(quota.body.current_devices, 2);
});
