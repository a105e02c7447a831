import t, { type Test } from 'tap';
import { X509Certificate } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import type { MqttClient } from 'mqtt';
import { createCa, createServerCert, type PemPair } from '../../src/certs/generate.js';
import { tempDir, removeDir } from '../helpers/gateway.js';
import { withGateway } from '../helpers/fixture.js';
import { spawnGateway } from '../helpers/spawn.js';
import { apiClient } from '../helpers/http.js';
import { registerDevice, type RegisteredDevice } from '../helpers/devices.js';
import { connectDevice } from '../broker/mqtt-helpers.js';

interface CertSet { ca: PemPair; server: PemPair; fingerprint: string }

const NAMES = { dns: ['localhost'], ips: ['127.0.0.1'] };

/** A new CA and server certificate, written over the files the gateway is configured with. */
async function writeCerts(dir: string, label: string): Promise<CertSet> {
  const ca = await createCa(`reload test ${label}`);
  const server = await createServerCert(ca, NAMES);
  writeFileSync(path.join(dir, 'ca.crt'), ca.certPem);
  writeFileSync(path.join(dir, 'server.crt'), server.certPem);
  writeFileSync(path.join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
  return { ca, server, fingerprint: new X509Certificate(server.certPem).fingerprint256 };
}

const tlsEnv = (dir: string): Record<string, string> => ({
  WAYS_EDGE_TLS_CERT_FILE: path.join(dir, 'server.crt'), WAYS_EDGE_TLS_KEY_FILE: path.join(dir, 'server.key'), WAYS_EDGE_TLS_CA_FILE: path.join(dir, 'ca.crt'),
});

/** The SHA-256 fingerprint of the certificate a new TLS handshake on `port` gets (verified against `caPem`). */
function peerFingerprint(port: number, caPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: caPem, servername: 'localhost' }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fingerprint);
    });
    socket.on('error', reject);
  });
}

/** The device is still connected on its old TLS session and gets PUBACKs. */
async function stillPublishes(t: Test, client: MqttClient, device: RegisteredDevice, closes: () => number): Promise<void> {
  t.equal(closes(), 0, 'the connected device was not dropped');
  t.ok(client.connected, 'and is still connected');
  // mqtt.js resolves a QoS 1 publish when its PUBACK arrives.
  await client.publishAsync(`devices/${device.device_id}/telemetry`, JSON.stringify({ t: 21.5 }), { qos: 1 });
  t.pass('a QoS 1 publish on the old connection is acknowledged (PUBACK)');
}

t.test('reloadCertificates(): new handshakes get the new certificate, connected devices stay, bad files keep the old one', async (t) => {
  const certDir = tempDir('ways-edge-certs-');
  t.teardown(() => removeDir(certDir));
  const first = await writeCerts(certDir, 'first');
  const { gw, api } = await withGateway(t, { env: tlsEnv(certDir) });
  const mqttPort = gw.gateway.mqttPort;
  const apiPort = gw.gateway.apiPort;
  t.equal(gw.caPem, first.ca.certPem, 'the configured CA is in use');
  t.equal(await peerFingerprint(mqttPort, first.ca.certPem), first.fingerprint);

  const device = await registerDevice(api);
  const client = await connectDevice(t, { port: mqttPort, caPem: first.ca.certPem }, device);
  let closes = 0;
  client.on('close', () => { closes += 1; });

  const second = await writeCerts(certDir, 'second');
  t.equal(await gw.gateway.reloadCertificates(), true, 'reloaded');
  await stillPublishes(t, client, device, () => closes);
  t.equal(await peerFingerprint(mqttPort, second.ca.certPem), second.fingerprint, 'a new MQTT handshake gets the new certificate');
  t.equal(await peerFingerprint(apiPort, second.ca.certPem), second.fingerprint, 'so does a new HTTPS handshake');
  await t.rejects(peerFingerprint(mqttPort, first.ca.certPem), 'the old CA no longer verifies new handshakes');
  const api2 = apiClient(gw.baseUrl, second.ca.certPem, gw.adminKey);
  t.teardown(() => api2.close());
  const creds = await api2.get<{ ca_certificate: string }>('/v1/iot/credentials');
  t.equal(creds.body.ca_certificate, second.ca.certPem, 'GET /credentials hands out the new CA');

  // Bad replacements: each is refused and the second certificate stays in use.
  writeFileSync(path.join(certDir, 'server.crt'), 'not a certificate\n');
  t.equal(await gw.gateway.reloadCertificates(), false, 'garbage in the certificate file is refused');
  const other = await createServerCert(second.ca, NAMES);
  writeFileSync(path.join(certDir, 'server.crt'), other.certPem);
  t.equal(await gw.gateway.reloadCertificates(), false, 'a certificate whose key is not in key_file is refused');
  rmSync(path.join(certDir, 'server.key'));
  t.equal(await gw.gateway.reloadCertificates(), false, 'a missing key file is refused');
  t.equal(await peerFingerprint(mqttPort, second.ca.certPem), second.fingerprint, 'the last good certificate is still served');
  t.equal((await api2.get<{ ca_certificate: string }>('/v1/iot/credentials')).body.ca_certificate, second.ca.certPem);
  await stillPublishes(t, client, device, () => closes);
});

t.test('with generated certificates, a reload after removing server.crt/.key makes a new one under the same CA', async (t) => {
  const { gw } = await withGateway(t);
  const ca = gw.caPem;
  const before = await peerFingerprint(gw.gateway.mqttPort, ca);
  rmSync(path.join(gw.dataDir, 'certs', 'server.crt'));
  rmSync(path.join(gw.dataDir, 'certs', 'server.key'));
  t.equal(await gw.gateway.reloadCertificates(), true);
  const after = await peerFingerprint(gw.gateway.mqttPort, ca);
  t.not(after, before, 'a new server certificate');
  t.equal(gw.gateway.tlsMaterial.caPem, ca, 'signed by the same CA, which clients keep trusting');
});

t.test('SIGHUP reloads the certificates of a running gateway process without dropping devices', async (t) => {
  const certDir = tempDir('ways-edge-certs-');
  const dataDir = tempDir();
  t.teardown(() => { removeDir(certDir); removeDir(dataDir); });
  const first = await writeCerts(certDir, 'first');
  const gw = await spawnGateway(dataDir, tlsEnv(certDir));
  t.teardown(() => gw.stop());
  const api = apiClient(`https://127.0.0.1:${gw.apiPort}`, first.ca.certPem, gw.adminKey());
  t.teardown(() => api.close());
  const device = await registerDevice(api);
  const client = await connectDevice(t, { port: gw.mqttPort, caPem: first.ca.certPem }, device);
  let closes = 0;
  client.on('close', () => { closes += 1; });

  const second = await writeCerts(certDir, 'second');
  gw.child.kill('SIGHUP');
  const reloaded = await gw.waitForLog('certificates_reloaded');
  t.match(reloaded, { fingerprint256: second.fingerprint, ca_changed: true }, 'logged, with the new fingerprint');
  t.equal(gw.child.exitCode, null, 'the process keeps running (SIGHUP does not end it)');
  await stillPublishes(t, client, device, () => closes);
  t.equal(await peerFingerprint(gw.mqttPort, second.ca.certPem), second.fingerprint, 'a new handshake gets the new certificate');

  writeFileSync(path.join(certDir, 'server.key'), 'broken\n');
  gw.child.kill('SIGHUP');
  const failed = await gw.waitForLog('certificates_reload_failed');
  t.equal(failed.level, 'error', 'a bad file is an error in the log');
  t.equal(gw.child.exitCode, null, 'and no crash');
  t.equal(await peerFingerprint(gw.mqttPort, second.ca.certPem), second.fingerprint, 'the good certificate stays');
  t.equal(await gw.stop(), 0, 'a clean stop afterwards');
});
