import t from 'tap';
import { once } from 'node:events';
import net from 'node:net';
import mqtt from 'mqtt';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { connackOf, deviceOptions, rawTls } from './mqtt-helpers.js';
import { handshake } from '../helpers/tls-handshake.js';

t.test('TLS listener: TLS 1.2 and 1.3 with the gateway certificate; TLS 1.1 refused; no plain listener by default', async (t) => {
  const { gw, api } = await withGateway(t);
  const port = gw.gateway.mqttPort;
  t.ok(port > 0, 'listening on an ephemeral port');
  t.match(await handshake(port, gw.caPem, { minVersion: 'TLSv1.3' }), /^TLSv1\.3 TLS_/, 'TLS 1.3');
  t.match(await handshake(port, gw.caPem, { maxVersion: 'TLSv1.2' }), /^TLSv1\.2 ECDHE-ECDSA-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$/, 'TLS 1.2 with an intermediate cipher');
  t.match(await handshake(port, gw.caPem, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }), /^refused/, 'TLS 1.1 refused');
  t.match(await handshake(port, gw.caPem, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }), /^refused/, 'a CBC cipher outside the profile refused');
  t.match(await handshake(port, '', { ca: [] }), /^refused/, 'a client that does not trust the gateway CA fails');
  t.equal(gw.gateway.mqttPlainPort, 0, 'no plain listener');
  const ready = await api.get<{ parts: Record<string, boolean> }>('/readyz');
  t.equal(ready.body.parts.broker, true, '/readyz counts the broker');
});

t.test('the plain listener, when switched on, binds to localhost and applies the same authentication', async (t) => {
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_MQTT_PLAIN_ENABLED: 'true', WAYS_EDGE_MQTT_PLAIN_PORT: '0' } });
  const port = gw.gateway.mqttPlainPort;
  t.ok(port > 0);
  t.equal(gw.config.mqtt.plain_host, '127.0.0.1', 'localhost unless configured otherwise');
  const device = await registerDevice(api);
  const plain = { host: '127.0.0.1', port, protocol: 'mqtt' as const, reconnectPeriod: 0 };
  t.equal((await connackOf({ ...plain, username: device.device_id, password: device.mqtt_credentials.password, clientId: device.device_id })).code, 0);
  t.equal((await connackOf({ ...plain, username: device.device_id, password: 'wrong', clientId: device.device_id })).code, 4);
  const client = await mqtt.connectAsync({ ...plain, username: device.device_id, password: device.mqtt_credentials.password, clientId: device.device_id });
  t.teardown(() => client.endAsync(true));
  await client.publishAsync(`devices/${device.device_id}/telemetry`, 'plain', { qos: 1 });
  const usage = await api.get<{ totals: { messages_in: number } }>(`/v1/iot/usage?device_id=${device.device_id}`);
  t.equal(usage.body.totals.messages_in, 1);
});

t.test('idle sockets are closed: no TLS handshake, or no CONNECT, within mqtt.connect_timeout_ms', async (t) => {
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_MQTT_CONNECT_TIMEOUT_MS: '300' } });
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const tcp = net.connect({ host: '127.0.0.1', port: target.port });
  tcp.on('error', () => undefined);
  const t0 = performance.now();
  await once(tcp, 'close');
  t.ok(performance.now() - t0 < 3_000, `a socket that never starts TLS is closed (${Math.round(performance.now() - t0)} ms)`);

  const idle = await rawTls(target);
  idle.on('error', () => undefined);
  const t1 = performance.now();
  await once(idle, 'close');
  t.ok(performance.now() - t1 < 3_000, `a TLS connection that never sends CONNECT is closed (${Math.round(performance.now() - t1)} ms)`);

  const device = await registerDevice(api);
  t.equal((await connackOf(deviceOptions(target, device))).code, 0, 'a real client is unaffected');
});
