import type { Test } from 'tap';
import mqttPacket from 'mqtt-packet';
import { spawnGateway, type SpawnedGateway } from '../../helpers/spawn.js';
import { removeDir, tempDir } from '../../helpers/gateway.js';
import { apiClient, type ApiClient } from '../../helpers/http.js';
import type { RegisteredDevice } from '../../helpers/devices.js';
import { RawConnection, type Target } from './raw.js';
import { deviceConnect } from './replay.js';
import { rssOf } from './process.js';

export interface GatewayUnderTest {
  gw: SpawnedGateway;
  api: ApiClient;
  target: Target;
  rss(): number;
}

/**
 * A gateway in its own process (so its CPU, memory and survival are its own), on a temp data
 * directory, with an admin API client; stopped by PID with the test.
 */
export async function spawnUnderTest(t: Test, env: Record<string, string> = {}): Promise<GatewayUnderTest> {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const gw = await spawnGateway(dir, env);
  t.teardown(() => gw.kill9());
  const caPem = gw.caPem();
  const api = apiClient(`https://127.0.0.1:${gw.apiPort}`, caPem, gw.adminKey());
  t.teardown(() => api.close());
  return { gw, api, target: { port: gw.mqttPort, caPem }, rss: () => rssOf(gw.child.pid) };
}

/** A raw TLS connection logged in as `device` (CONNACK accepted), or a rejection. */
export async function rawDevice(target: Target, device: RegisteredDevice, keepalive = 60): Promise<RawConnection> {
  const conn = await RawConnection.open(target);
  conn.send(deviceConnect(device, 4, keepalive));
  const { bytes } = await conn.read(4, 10_000);
  if (!bytes.equals(Buffer.from([0x20, 0x02, 0x00, 0x00]))) { conn.destroy(); throw new Error(`device CONNECT refused: ${bytes.toString('hex')}`); }
  return conn;
}

/** A raw TLS connection logged in as the application `name` (API key with the mqtt scope). */
export async function rawApp(target: Target, name: string, key: string, clientId = `${name}-${process.pid}`): Promise<RawConnection> {
  const conn = await RawConnection.open(target);
  conn.send(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 600, clientId, username: `app:${name}`, password: Buffer.from(key) }));
  const { bytes } = await conn.read(4, 10_000);
  if (!bytes.equals(Buffer.from([0x20, 0x02, 0x00, 0x00]))) { conn.destroy(); throw new Error(`app CONNECT refused: ${bytes.toString('hex')}`); }
  return conn;
}

/**
 * The CONNACK return code for a CONNECT (0 = accepted), or -1 when the connection closed without one.
 * Refused credentials are answered later and later per remote address (src/broker/failure-throttle.ts):
 * a test of many refusals gives each its own `localAddress`.
 */
export async function connackCode(target: Target, connect: Buffer, localAddress?: string): Promise<number> {
  const conn = await RawConnection.open(target, {}, localAddress);
  try {
    conn.send(connect);
    const { bytes } = await conn.read(4, 10_000);
    return bytes.length === 4 && bytes[0] === 0x20 ? (bytes[3] as number) : -1;
  } finally {
    conn.destroy();
  }
}

/** A day's usage totals of one device. */
export async function usageOf(api: ApiClient, deviceId: string): Promise<{ messages_in: number; bytes_in: number; rejected: number; messages_out: number }> {
  const res = await api.get<{ totals: { messages_in: number; bytes_in: number; rejected: number; messages_out: number } }>(`/v1/iot/usage?device_id=${deviceId}`);
  return res.body.totals;
}
