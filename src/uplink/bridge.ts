import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from '../log.js';
import { TypedEmitter } from '../typed-emitter.js';
import type { Backoff } from './backoff.js';

/** MQTT keepalive towards the cloud: a silently dead link (no RST) is noticed within 1.5 × this. */
const KEEPALIVE_SECONDS = 60;
/** A CONNECT without CONNACK for this long counts as a failed attempt. */
const CONNECT_TIMEOUT_MS = 30_000;

export interface BridgeOptions {
  /** mqtt:// or mqtts:// URL of the cloud broker. */
  url: string;
  username: string;
  password: string;
  /** CA (PEM) that signed the cloud broker's certificate; undefined = the system CAs. */
  caPem: string | undefined;
  clientId: string;
  will: { topic: string; payload: Buffer };
  /** Topics subscribed at QoS 1 on every connect (the gateway's command topic). */
  subscriptions: readonly string[];
  backoff: Backoff;
  log: Logger;
  /**
   * A message from the cloud. Resolving acknowledges it (PUBACK); rejecting leaves it
   * unacknowledged and drops the link, so that the cloud delivers it again on the next session.
   */
  onMessage: (topic: string, payload: Buffer) => Promise<void>;
}

export type BridgeState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'stopped';

export type BridgeEvents = {
  up: [link: Link];
  down: [link: Link];
};

/**
 * One connection to the cloud. Its publishes resolve on PUBACK and reject when it goes down; a
 * reconnect is a new Link, so nothing of an old connection leaks into a new one.
 */
export class Link {
  private alive = true;
  private readonly pending = new Set<(err: Error) => void>();

  constructor(readonly epoch: number, private readonly client: MqttClient) {}

  get up(): boolean { return this.alive; }

  /** A QoS 1 publish; resolves once the cloud has acknowledged it. */
  publish(topic: string, payload: Buffer, retain = false): Promise<void> {
    if (!this.alive) return Promise.reject(new Error('uplink connection lost'));
    return new Promise<void>((resolve, reject) => {
      this.pending.add(reject);
      this.client.publish(topic, payload, { qos: 1, retain }, (err) => {
        this.pending.delete(reject);
        if (err) reject(err); else resolve();
      });
    });
  }

  /** mqtt.js keeps the callbacks of a persistent session's packets after a close: fail them here. */
  close(): void {
    if (!this.alive) return;
    this.alive = false;
    const err = new Error('uplink connection lost');
    for (const reject of this.pending) reject(err);
    this.pending.clear();
  }

  /** Graceful end: DISCONNECT (the cloud discards the will), or a hard close after `timeoutMs`. */
  end(timeoutMs: number): Promise<void> {
    this.close();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.client.end(true); resolve(); }, timeoutMs);
      this.client.end(false, () => { clearTimeout(timer); resolve(); });
    });
  }

  destroy(): void {
    this.close();
    this.client.end(true);
  }
}

/**
 * The link to the cloud: an mqtt.js client per connection attempt, with mqtt.js's own reconnect
 * switched off (`reconnectPeriod: 0`) so that the policy is ours (src/uplink/backoff.ts) and a new
 * connection starts with no hidden resend queue — the outbox is the only queue.
 *
 * `clean: false`: the cloud keeps the gateway's session while it is away, so commands published
 * for the gateway during an outage reach it when it returns. Our own unacknowledged publishes are
 * resent from the outbox, not from the session (a duplicate at worst, identified by its ids).
 */
export class Bridge {
  readonly events = new TypedEmitter<BridgeEvents>();
  private stateV: BridgeState = 'idle';
  private epoch = 0;
  private link: Link | undefined;
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastErrorV: string | undefined;
  private outageSince: number | undefined;

  constructor(private readonly opts: BridgeOptions) {}

  get state(): BridgeState { return this.stateV; }
  get connected(): boolean { return this.stateV === 'connected'; }
  get lastError(): string | undefined { return this.lastErrorV; }
  get current(): Link | undefined { return this.link?.up ? this.link : undefined; }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /**
   * Stops reconnecting and ends the connection: `beforeEnd` (e.g. waiting for in-flight PUBACKs and
   * publishing the retained offline status) runs first while the link is still up.
   */
  async stop(beforeEnd?: (link: Link) => Promise<void>, endTimeoutMs = 1000): Promise<void> {
    this.stopped = true;
    this.stateV = 'stopped';
    clearTimeout(this.timer);
    const link = this.current;
    if (link && beforeEnd) {
      try { await beforeEnd(link); } catch (err) { this.opts.log.debug({ event: 'uplink_stop_publish_failed', err }, 'final publish to the cloud failed'); }
    }
    if (link) await link.end(endTimeoutMs);
    else this.client?.end(true);
    this.link = undefined;
    this.client = undefined;
    this.events.removeAll();
  }

  /** Drops the current connection (e.g. after a publish error) and reconnects by the policy. */
  restart(reason: string): void {
    if (this.stopped || !this.client) return;
    this.lastErrorV = reason;
    this.client.end(true);
  }

  private connect(): void {
    if (this.stopped) return;
    this.stateV = 'connecting';
    const epoch = ++this.epoch;
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.clientId,
      clean: false,
      reconnectPeriod: 0,
      keepalive: KEEPALIVE_SECONDS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      protocolVersion: 4,
      resubscribe: false,
      will: { topic: o.will.topic, payload: o.will.payload, qos: 1, retain: true },
      rejectUnauthorized: true,
      ...(o.username ? { username: o.username } : {}),
      ...(o.password ? { password: o.password } : {}),
      ...(o.caPem ? { ca: o.caPem } : {}),
    };
    let client: MqttClient;
    try {
      client = mqtt.connect(o.url, options);
    } catch (err) {
      // mqtt.js throws for some bad URLs; the uplink checks the URL at start, this keeps a retry from crashing.
      this.lastErrorV = (err as Error).message;
      this.stateV = 'waiting';
      this.timer = setTimeout(() => this.connect(), this.opts.backoff.next());
      return;
    }
    this.client = client;
    const link = new Link(epoch, client);
    // Acknowledge a cloud message only once it has been handed on (mqtt.js sends the PUBACK after
    // this callback; an error leaves it unacknowledged).
    client.handleMessage = (packet, done) => {
      if (packet.cmd !== 'publish') { done(); return; }
      const p = packet as IPublishPacket;
      const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : Buffer.from(p.payload);
      o.onMessage(p.topic, payload).then(() => done(), (err: unknown) => {
        done(err instanceof Error ? err : new Error(String(err)));
        if (epoch === this.epoch) this.restart(`handing on a cloud message failed: ${(err as Error).message}`);
      });
    };
    client.on('connect', () => this.onConnect(link, client));
    client.on('error', (err) => {
      if (epoch === this.epoch) this.lastErrorV = err.message;
    });
    client.on('close', () => this.onClose(link, client));
  }

  private onConnect(link: Link, client: MqttClient): void {
    if (link.epoch !== this.epoch || this.stopped) return;
    this.link = link;
    this.stateV = 'connected';
    this.opts.backoff.connected();
    const after = this.outageSince === undefined ? undefined : Math.round((Date.now() - this.outageSince) / 1000);
    this.opts.log.info({ event: 'uplink_connected', url: redactUrl(this.opts.url), outage_seconds: after, attempts: this.opts.backoff.attempts }, 'uplink connected');
    this.outageSince = undefined;
    if (this.opts.subscriptions.length > 0) {
      client.subscribe([...this.opts.subscriptions], { qos: 1 }, (err, granted) => {
        const refused = granted?.filter((g) => g.qos === 128).map((g) => g.topic) ?? [];
        if (err || refused.length > 0) {
          this.lastErrorV = err ? err.message : `subscription refused: ${refused.join(', ')}`;
          this.opts.log.error({ event: 'uplink_subscribe_failed', topics: refused, err }, 'the cloud refused the command subscription; cloud commands will not arrive');
        }
      });
    }
    this.events.emit('up', link);
  }

  private onClose(link: Link, client: MqttClient): void {
    if (link.epoch !== this.epoch) return;
    const wasUp = link.up && this.link === link;
    link.close();
    this.link = undefined;
    client.end(true);
    if (wasUp) {
      this.opts.backoff.disconnected();
      this.events.emit('down', link);
    }
    if (this.stopped) return;
    const now = Date.now();
    if (this.outageSince === undefined) {
      this.outageSince = now;
      this.opts.log.warn({ event: 'uplink_disconnected', url: redactUrl(this.opts.url), error: this.lastErrorV }, wasUp ? 'uplink connection lost; buffering in the outbox' : 'uplink connection failed; buffering in the outbox');
    }
    const delay = this.opts.backoff.next();
    this.opts.log.debug({ event: 'uplink_retry', delay_ms: delay, error: this.lastErrorV }, 'uplink reconnect scheduled');
    this.stateV = 'waiting';
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

/** The URL without user info, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}
