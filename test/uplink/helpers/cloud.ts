import net, { type Server, type Socket } from 'node:net';
import tls from 'node:tls';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import type { Test } from 'tap';
import { decodeBatch, type CloudMessage, type DecodedBatch } from './decode.js';

export interface CloudOptions {
  /** Credentials the cloud accepts; anything else gets CONNACK "bad username or password". */
  username?: string;
  password?: string;
  /** Serve MQTT over TLS with this certificate (mqtts://127.0.0.1:port; the certificate must name 127.0.0.1). */
  tls?: { certPem: string; keyPem: string };
}

export interface CloudPublish { topic: string; payload: Buffer; retain: boolean; clientId: string }

/**
 * "The cloud" of the uplink tests: a real MQTT broker (aedes, in this process) on a loopback port that
 * records what the gateway publishes and decodes its batches. stop() and start() make an outage; the
 * port stays the same so the gateway's configured URL keeps working.
 */
export class TestCloud {
  readonly publishes: CloudPublish[] = [];
  readonly batches: DecodedBatch[] = [];
  /** Every message of every batch, duplicates included, in arrival order. */
  readonly messages: CloudMessage[] = [];
  /** Retained status documents the gateway published, in order. */
  readonly statuses: Array<Record<string, unknown>> = [];
  connects = 0;
  /** QoS 1 messages the cloud sent that a client acknowledged (e.g. commands the gateway took). */
  acks = 0;
  refused = 0;
  port = 0;
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly waiters = new Set<() => void>();

  constructor(private readonly opts: CloudOptions = {}) {}

  get url(): string { return `${this.opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`; }
  get running(): boolean { return this.server !== undefined; }

  async start(): Promise<void> {
    const aedes = await Aedes.createBroker({
      authenticate: (_client, username, password, done) => {
        const ok = (this.opts.username === undefined || username === this.opts.username) && (this.opts.password === undefined || password?.toString() === this.opts.password);
        if (!ok) { this.refused += 1; setImmediate(() => this.notify()); const err = Object.assign(new Error('bad credentials'), { returnCode: 4 }); done(err as Parameters<typeof done>[0], false); return; }
        done(null, true);
      },
    });
    aedes.on('client', () => { this.connects += 1; this.notify(); });
    aedes.on('ack', () => { this.acks += 1; this.notify(); });
    aedes.on('publish', (packet: PublishPacket, client: Client | null) => { if (client) this.record(packet, client); });
    const handle = (socket: Socket): void => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      aedes.handle(socket);
    };
    const server = this.opts.tls ? tls.createServer({ cert: this.opts.tls.certPem, key: this.opts.tls.keyPem }, handle) : net.createServer(handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.aedes = aedes;
    this.server = server;
  }

  /** An outage: the listener closes and every connection is cut. */
  async stop(): Promise<void> {
    const { aedes, server } = this;
    this.aedes = undefined;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => { server.close(() => resolve()); for (const s of this.sockets) s.destroy(); });
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
  }

  /** Publishes as the cloud (e.g. a command for the gateway), QoS 1. */
  publish(topic: string, payload: Buffer | string, retain = false): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.reject(new Error('cloud not running'));
    return new Promise((resolve, reject) => {
      aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Resolves once `check()` holds (checked after every event the cloud sees); rejects after `timeoutMs`. */
  until(check: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = (): void => {
        if (!check()) return;
        this.waiters.delete(waiter);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => { this.waiters.delete(waiter); reject(new Error(`cloud: ${what} not reached within ${timeoutMs} ms`)); }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Messages after de-duplication by (outbox_id, device_id, seq), in arrival order. */
  unique(): CloudMessage[] {
    const seen = new Set<string>();
    const out: CloudMessage[] = [];
    for (const m of this.messages) {
      const key = `${m.outbox_id}|${m.device_id}|${m.seq}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(m);
    }
    return out;
  }

  private record(packet: PublishPacket, client: Client): void {
    const payload = Buffer.from(packet.payload);
    const topic = packet.topic;
    this.publishes.push({ topic, payload, retain: packet.retain, clientId: client.id });
    if (topic === `devices/${client.id}/status`) this.statuses.push(JSON.parse(payload.toString()) as Record<string, unknown>);
    else if (topic === `devices/${client.id}/telemetry` && (payload[0] === 0x7b || payload[0] === 0x1f)) {
      const batch = decodeBatch(payload);
      this.batches.push(batch);
      for (const m of batch.messages) this.messages.push(m);
    }
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** A started test cloud, stopped when the test ends. */
export async function startTestCloud(t: Test, opts: CloudOptions): Promise<TestCloud> {
  const cloud = new TestCloud(opts);
  await cloud.start();
  t.teardown(() => cloud.stop());
  return cloud;
}

/**
 * The gateway settings of the uplink tests: this cloud as the uplink with `username` as the gateway's
 * identity there, batches sent after 50 ms, reconnects 50–300 ms apart (so outages end quickly), and
 * no per-device rate limit. `extra` overrides or adds settings.
 */
export function cloudEnv(cloud: TestCloud, username: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    WAYS_EDGE_CLOUD_URL: cloud.url, WAYS_EDGE_CLOUD_USERNAME: username, WAYS_EDGE_CLOUD_BATCH_MAX_AGE_MS: '50',
    WAYS_EDGE_CLOUD_RECONNECT_MIN_MS: '50', WAYS_EDGE_CLOUD_RECONNECT_MAX_MS: '300', WAYS_EDGE_MQTT_RATE_LIMIT: '0', ...extra,
  };
}
