import { once } from 'node:events';
import tls from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Test } from 'tap';
import type { ApiClient } from '../helpers/http.js';
import type { Gateway } from '../../src/gateway.js';
import type { RegisteredDevice } from '../helpers/devices.js';

/** Where a test's broker listens and which CA it trusts. */
export interface BrokerTarget { port: number; caPem: string }

export interface Received { topic: string; payload: Buffer; retain: boolean; qos: number }

/** mqtt.js options for the gateway's TLS listener on loopback: no reconnects, so failures stay visible. */
export function tlsOptions(target: BrokerTarget, extra: IClientOptions = {}): IClientOptions {
  return {
    host: '127.0.0.1', port: target.port, protocol: 'mqtts', ca: target.caPem, servername: 'localhost',
    reconnectPeriod: 0, connectTimeout: 10_000, protocolVersion: 4, ...extra,
  };
}

export function deviceOptions(target: BrokerTarget, device: RegisteredDevice, extra: IClientOptions = {}): IClientOptions {
  const c = device.mqtt_credentials;
  return tlsOptions(target, { username: c.username, password: c.password, clientId: c.client_id, ...extra });
}

/** Connects and registers the client for teardown (ended forcefully: no DISCONNECT is needed). */
export async function connect(t: Test, opts: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(opts);
  client.on('error', () => undefined);
  t.teardown(() => client.endAsync(true));
  return client;
}

export function connectDevice(t: Test, target: BrokerTarget, device: RegisteredDevice, extra: IClientOptions = {}): Promise<MqttClient> {
  return connect(t, deviceOptions(target, device, extra));
}

export function connectApp(t: Test, target: BrokerTarget, name: string, key: string, extra: IClientOptions = {}): Promise<MqttClient> {
  return connect(t, tlsOptions(target, { username: `app:${name}`, password: key, clientId: `app-${name}-${Math.random().toString(36).slice(2, 8)}`, ...extra }));
}

/** An API key with the given scopes. */
export async function createKey(api: ApiClient, name: string, scopes: string[]): Promise<string> {
  const res = await api.post<{ key: string }>('/v1/iot/keys', { name, scopes });
  if (res.status !== 201) throw new Error(`creating key ${name}: ${res.status} ${res.text}`);
  return res.body.key;
}

/**
 * The CONNACK return code a CONNECT with these options gets: 0 when accepted (the client is then
 * closed), else the refusal's code. Also how long the answer took.
 */
export async function connackOf(opts: IClientOptions): Promise<{ code: number; ms: number }> {
  const t0 = performance.now();
  const client = mqtt.connect(opts);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      client.once('connect', () => resolve(0));
      client.once('error', (err: Error & { code?: unknown }) => (typeof err.code === 'number' ? resolve(err.code) : reject(err)));
      client.once('close', () => reject(new Error('closed without a CONNACK')));
    });
    return { code, ms: performance.now() - t0 };
  } finally {
    await client.endAsync(true);
  }
}

/** Collects every message a client receives. */
export function collect(client: MqttClient): Received[] {
  const got: Received[] = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload, retain: packet.retain, qos: packet.qos }));
  return got;
}

/**
 * Resolves when the gateway has granted `clientId` a subscription to `topic`. Call it before the
 * client subscribes; tools outside the test (paho, mosquitto_sub) give no other reliable signal.
 */
export function subscribed(gateway: Gateway, clientId: string, topic: string, timeoutMs = 20_000): Promise<void> {
  const broker = gateway.mqtt;
  if (!broker) return Promise.reject(new Error('the broker is not running'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`${clientId} did not subscribe to ${topic} within ${timeoutMs} ms`)); }, timeoutMs);
    const off = broker.events.on('subscribed', (id, topics) => {
      if (id !== clientId || !topics.includes(topic)) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Resolves once `got` (from collect()) holds at least `count` messages. */
export function untilCount(client: MqttClient, got: readonly Received[], count: number, timeoutMs = 10_000): Promise<void> {
  if (got.length >= count) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { client.off('message', check); reject(new Error(`${got.length} of ${count} messages within ${timeoutMs} ms`)); }, timeoutMs);
    // Registered after collect()'s listener, so `got` already holds the message when this runs.
    const check = (): void => {
      if (got.length < count) return;
      clearTimeout(timer);
      client.off('message', check);
      resolve();
    };
    client.on('message', check);
  });
}

/** The next message on `topic` (any topic when undefined). */
export function nextMessage(client: MqttClient, topic?: string, timeoutMs = 10_000): Promise<Received> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { client.off('message', onMessage); reject(new Error(`no message on ${topic ?? 'any topic'} within ${timeoutMs} ms`)); }, timeoutMs);
    const onMessage = (t: string, payload: Buffer, packet: { retain: boolean; qos: number }): void => {
      if (topic !== undefined && t !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve({ topic: t, payload, retain: packet.retain, qos: packet.qos });
    };
    client.on('message', onMessage);
  });
}

/** Resolves when the client's connection closes; rejects after `timeoutMs`. */
export function closeOf(client: MqttClient, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  if (!client.connected && client.disconnected) return Promise.resolve(0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
    client.once('close', () => { clearTimeout(timer); resolve(performance.now() - t0); });
  });
}

/** Granted QoS per filter (128 = refused); mqtt.js rejects a SUBACK with a refusal, so read it from the packet. */
export async function subscribeCodes(client: MqttClient, filters: string[], qos: 0 | 1 | 2 = 1): Promise<number[]> {
  try {
    const grants = await client.subscribeAsync(filters, { qos });
    return grants.map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!granted) throw err;
    return granted;
  }
}

/**
 * A raw TLS connection to the broker for byte-level tests (no MQTT library between the test and
 * the wire).
 */
export async function rawTls(target: BrokerTarget): Promise<tls.TLSSocket> {
  const socket = tls.connect({ host: '127.0.0.1', port: target.port, ca: target.caPem, servername: 'localhost' });
  await once(socket, 'secureConnect');
  return socket;
}
