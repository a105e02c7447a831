import t from 'tap';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { withGateway } from '../helpers/fixture.js';

const run = promisify(execFile);

// The seed document's curl commands, changed only in the base URL, the key and --cacert.
t.test("the seed's curl examples work against the gateway", async (t) => {
  const { gw } = await withGateway(t);
  const ca = path.join(gw.dataDir, 'seed-ca.crt');
  writeFileSync(ca, gw.caPem);
  const base = `https://localhost:${gw.gateway.apiPort}/v1/iot`;
  const auth = `Authorization: Bearer ${gw.adminKey}`;
  const curl = async (...args: string[]): Promise<Record<string, unknown>> => {
    const { stdout } = await run('curl', ['-sS', '--fail-with-body', '--cacert', ca, ...args]);
    return JSON.parse(stdout) as Record<string, unknown>;
  };

  const device = await curl('-X', 'POST', `${base}/devices`, '-H', auth, '-H', 'Content-Type: application/json', '-d', `{
"name": "Temperature Sensor 01",
"description": "Living room temperature sensor",
"type": "sensor",
"metadata": {
"location": "living_room",
"model": "DHT22"
}
}`);
  t.same(Object.keys(device).sort(), ['created_at', 'device_id', 'mqtt_credentials', 'name', 'status', 'type']);
  const id = String(device.device_id);

  const list = await curl('-X', 'GET', `${base}/devices?limit=50&offset=0`, '-H', auth);
  t.equal(list.total, 1);
  const one = await curl('-X', 'GET', `${base}/devices/${id}`, '-H', auth);
  t.equal(one.device_id, id);
  const usage = await curl('-X', 'GET', `${base}/usage?start_date=2025-10-29&end_date=2025-11-05`, '-H', auth);
  t.equal(usage.start_date, '2025-10-29');
  const quota = await curl('-X', 'GET', `${base}/quota`, '-H', auth);
  t.same(Object.keys(quota), ['max_devices', 'current_devices', 'max_messages_per_month', 'current_messages', 'max_bandwidth_gb', 'current_bandwidth_gb']);
  t.equal(quota.current_devices, 1);
});
