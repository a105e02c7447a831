import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { RawConnection } from './helpers/raw.js';
import { deviceConnect } from './helpers/replay.js';
import { rawDevice } from './helpers/gateway-under-test.js';
import { handshake } from '../helpers/tls-handshake.js';

/**
 * What test/broker/listeners.test.ts does not cover: TLS 1.0 on its own, a client that offers only
 * CBC ciphers with RSA key exchange (AES128-SHA), the HTTPS API port as well as the MQTT one, and
 * plaintext MQTT sent to the TLS port.
 */
t.test('TLS: old protocol versions and CBC-only clients refused on both ports; plaintext MQTT on the TLS port closed at once', async (t) => {
  const { gw, api } = await withGateway(t);
  const ports = { MQTT: gw.gateway.mqttPort, API: gw.gateway.apiPort };
  const legacy = { ciphers: 'DEFAULT@SECLEVEL=0' };
  for (const [name, port] of Object.entries(ports)) {
    t.match(await handshake(port, gw.caPem, { minVersion: 'TLSv1', maxVersion: 'TLSv1', ...legacy }), /^refused/, `${name}: TLS 1.0 refused`);
    t.match(await handshake(port, gw.caPem, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ...legacy }), /^refused/, `${name}: TLS 1.1 refused`);
    t.match(await handshake(port, gw.caPem, { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA' }), /^refused/, `${name}: a client offering only AES128-SHA (CBC, RSA key exchange) refused`);
    t.match(await handshake(port, gw.caPem, { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:AES256-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA' }), /^refused/, `${name}: CBC-only suites refused`);
    t.match(await handshake(port, gw.caPem, { maxVersion: 'TLSv1.2' }), /^TLSv1\.2 ECDHE-ECDSA-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$/, `${name}: TLS 1.2 with an AEAD suite works`);
  }

  const device = await registerDevice(api, 'tls-device');
  const plain = await RawConnection.openPlain(ports.MQTT);
  plain.send(deviceConnect(device, 4));
  t.ok(await plain.closedWithin(2_000), 'a plaintext MQTT CONNECT to the TLS port: closed within 2 s');
  t.notOk(plain.pending().includes(Buffer.from([0x20, 0x02])), 'without any MQTT answer');
  const garbage = await RawConnection.openPlain(ports.MQTT);
  garbage.send(Buffer.alloc(64 * 1024, 0x16));
  t.ok(await garbage.closedWithin(2_000), '64 KB of bytes that look like a TLS record header: closed too');
  const conn = await rawDevice({ port: ports.MQTT, caPem: gw.caPem }, device);
  t.pass('a device over TLS still connects');
  conn.destroy();
});
