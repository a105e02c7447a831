/**
 * The shared setup of one bench run: a temp directory, one certificate pair for both brokers, the
 * same device credentials for both (a pre-filled gateway store; a mosquitto password file and ACL),
 * and the environment overrides every gateway of the run gets.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { BareAedes } from './bare-aedes.js';
import { makeCerts, type CertFiles } from './certs.js';
import { USAGE_DAYS, fillStore, type FillResult } from './fill.js';
import { GatewayProcess } from './gateway.js';
import { Mosquitto, type Credential } from './mosquitto.js';
import { freePort } from './net.js';
import type { DeviceCredential } from './protocol.js';
import type { AppLogin, BrokerTarget } from './rig.js';

/** The application user on mosquitto (a colon, as in the gateway's `app:<name>`, cannot be in a password file). */
export const MOSQ_APP_USER = 'bench-app';
export const APP_KEY_NAME = 'bench';
/** The gateway's own identity at the local "cloud" broker. */
export const GATEWAY_CLOUD_ID = 'iot_dev_benchgateway';

export interface BenchEnv {
  root: string;
  certs: CertFiles;
  /** The gateway's data dir, pre-filled with `fill.ids.length` devices. */
  gwDataDir: string;
  fill: FillResult;
  mosqUsers: Credential[];
  appPassword: string;
  cloudPort: number;
  /** The run's experiments (--gateway-env, BENCH_GATEWAY_NODE_ARGS, BENCH_GATEWAY_STDOUT), for every gateway. */
  gatewayExtras: GatewayExtras;
}

export interface GatewayExtras {
  /** Applied last to every gateway's environment. */
  env: Record<string, string>;
  nodeArgs: string[];
  stdoutFile: string | undefined;
}

export async function prepareEnv(root: string, deviceCount: number, gatewayExtras: GatewayExtras): Promise<BenchEnv> {
  const certDir = path.join(root, 'certs');
  mkdirSync(certDir, { recursive: true });
  const certs = await makeCerts(certDir);
  const gwDataDir = path.join(root, 'gateway');
  mkdirSync(gwDataDir, { recursive: true, mode: 0o700 });
  const fill = await fillStore(gwDataDir, deviceCount, { appKeyName: APP_KEY_NAME, usageDays: USAGE_DAYS });
  const appPassword = fill.appKey?.key ?? '';
  const mosqUsers: Credential[] = [
    ...fill.ids.map((id) => ({ username: id, password: fill.password })),
    { username: MOSQ_APP_USER, password: appPassword },
  ];
  return { root, certs, gwDataDir, fill, mosqUsers, appPassword, cloudPort: await freePort(), gatewayExtras };
}

export function devices(env: BenchEnv, from: number, count: number): DeviceCredential[] {
  return env.fill.ids.slice(from, from + count).map((id) => ({ id, password: env.fill.password }));
}

export interface GatewayFlavour {
  /** Messages/s per device: 0 = no limit (the bench's default), 'default' = the shipped setting (100). */
  rateLimit?: number | 'default';
  /** Uplink to the local cloud broker (default on). */
  uplink?: boolean;
  nodeArgs?: string[];
  dataDir?: string;
  name?: string;
}

/** Environment overrides of every bench gateway (documented in docs/BENCHMARKS.md). */
export function gatewayEnv(env: BenchEnv, f: GatewayFlavour): Record<string, string> {
  return {
    ...(f.rateLimit === 'default' ? {} : { WAYS_EDGE_MQTT_RATE_LIMIT: String(f.rateLimit ?? 0) }),
    WAYS_EDGE_TLS_CERT_FILE: env.certs.certFile,
    WAYS_EDGE_TLS_KEY_FILE: env.certs.keyFile,
    WAYS_EDGE_TLS_CA_FILE: env.certs.caFile,
    WAYS_EDGE_API_RATE_LIMIT_PER_MINUTE: '0',
    WAYS_EDGE_QUOTA_MAX_DEVICES: '100000',
    WAYS_EDGE_QUOTA_MAX_MESSAGES_PER_MONTH: '1000000000000',
    WAYS_EDGE_QUOTA_MAX_BANDWIDTH_GB: '1000000',
    WAYS_EDGE_CLOUD_URL: f.uplink === false ? '' : `mqtt://127.0.0.1:${env.cloudPort}`,
    WAYS_EDGE_CLOUD_USERNAME: GATEWAY_CLOUD_ID,
    WAYS_EDGE_CLOUD_PASSWORD: 'bench',
    // Reconnect to the cloud quickly after the drain test's outage (the default backoff reaches 60 s).
    WAYS_EDGE_CLOUD_RECONNECT_MIN_MS: '200',
    WAYS_EDGE_CLOUD_RECONNECT_MAX_MS: '500',
    ...env.gatewayExtras.env,
  };
}

export function newGateway(env: BenchEnv, f: GatewayFlavour = {}): GatewayProcess {
  return new GatewayProcess({
    name: f.name ?? 'ways-edge',
    dataDir: f.dataDir ?? env.gwDataDir,
    env: gatewayEnv(env, f),
    nodeArgs: [...(f.nodeArgs ?? []), ...env.gatewayExtras.nodeArgs],
    ...(env.gatewayExtras.stdoutFile ? { stdoutFile: env.gatewayExtras.stdoutFile } : {}),
    readyTimeoutMs: 60_000,
  });
}

/**
 * The comparison broker. `max_inflight_messages 0`: no window on QoS 1 deliveries to a client, like
 * aedes. With mosquitto's default of 20, what queues behind the window waits for mosquitto's next
 * loop wake-up whenever the publishers pause (as they do under the end-to-end credit), and QoS 1
 * throughput swings between 3,000 and 30,000 msg/s from one window to the next.
 */
export async function newMosquitto(env: BenchEnv, name = 'mosquitto'): Promise<Mosquitto> {
  return new Mosquitto({
    name, dir: path.join(env.root, name), port: await freePort(), tls: env.certs, users: env.mosqUsers, appUser: MOSQ_APP_USER,
    extraConfig: ['max_inflight_messages 0'],
  });
}

export function newCloud(env: BenchEnv): Mosquitto {
  return new Mosquitto({ name: 'cloud-mosquitto', dir: path.join(env.root, 'cloud'), port: env.cloudPort, persistence: true });
}

export function gatewayTarget(env: BenchEnv, gw: GatewayProcess): BrokerTarget {
  const app: AppLogin = { clientId: 'bench-subscriber', username: `app:${APP_KEY_NAME}`, password: env.appPassword };
  return { label: 'ways-edge', pid: () => gw.pid, broker: { port: gw.mqttPort, ca: env.certs.caPem }, app };
}

/** The reference broker: aedes with a password check and nothing else (bench/bare-aedes.ts). */
export async function newBareAedes(env: BenchEnv, name = 'bare-aedes'): Promise<BareAedes> {
  return new BareAedes({ name, dir: path.join(env.root, name), port: await freePort(), tls: env.certs, users: env.mosqUsers });
}

export function bareAedesTarget(env: BenchEnv, a: BareAedes): BrokerTarget {
  const app: AppLogin = { clientId: 'bench-subscriber', username: MOSQ_APP_USER, password: env.appPassword };
  return { label: 'aedes', pid: () => a.pid, broker: { port: a.port, ca: env.certs.caPem }, app };
}

export function mosquittoTarget(env: BenchEnv, m: Mosquitto): BrokerTarget {
  const app: AppLogin = { clientId: 'bench-subscriber', username: MOSQ_APP_USER, password: env.appPassword };
  return { label: 'mosquitto', pid: () => m.pid, broker: { port: m.port, ca: env.certs.caPem }, app };
}
