import { readFile } from 'node:fs/promises';
import type { StatsSources } from '../api/stats-sources.js';
import type { GatewayConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import type { Service } from '../lifecycle.js';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';
import { Backoff } from './backoff.js';
import { Batcher } from './batcher.js';
import { Bridge, redactUrl, type Link } from './bridge.js';
import { Downlink, type DeviceDelivery } from './downlink.js';
import type { Outbox } from './outbox.js';

/** stop() waits at most this long for the PUBACKs of batches in flight (they stay in the outbox anyway). */
const STOP_DRAIN_MS = 2000;
/** …and this long for the retained offline status and the DISCONNECT. */
const STOP_END_MS = 500;
/** Housekeeping: age cap, end of drop episodes. */
const HOUSEKEEPING_MS = 60_000;
/** send_rate_per_sec is averaged over this many seconds. */
const SEND_RATE_WINDOW_S = 10;

export type UplinkState = 'connecting' | 'connected' | 'backoff' | 'stopped';

export interface UplinkDeps {
  config: GatewayConfig;
  log: Logger;
  outbox: Outbox;
  stats: StatsSources;
  /** The local broker, once it runs (downlink delivery). */
  delivery: () => DeviceDelivery | undefined;
  deviceExists: (deviceId: string) => boolean;
  /** The host health summary for the status message, when a health monitor exists. */
  healthSummary?: () => unknown;
}

/** The gateway's id at the cloud: its cloud username (which is also its client id). */
export function gatewayIdOf(config: GatewayConfig): string {
  return config.cloud.username || config.gateway.name;
}

/**
 * The uplink service: the bridge to the cloud (src/uplink/bridge.ts), the batcher that drains the
 * outbox over it, the downlink of cloud commands to local devices, the gateway's status topic and the
 * figures for /stats. The outbox itself is a separate service that starts before the broker (it must
 * be ready when the first device message is accepted); this one starts after the broker (cloud
 * commands need it) and stops before it.
 */
export class Uplink implements Service {
  readonly name = 'uplink';
  readonly gatewayId: string;
  readonly topics: { telemetry: string; status: string; commands: string };
  private bridge: Bridge | undefined;
  private batcher: Batcher | undefined;
  private downlink: Downlink | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private housekeeping: NodeJS.Timeout | undefined;
  private since = new Date();
  private stopped = false;

  constructor(private readonly deps: UplinkDeps) {
    this.gatewayId = gatewayIdOf(deps.config);
    const base = `devices/${this.gatewayId}`;
    this.topics = { telemetry: `${base}/telemetry`, status: `${base}/status`, commands: `${base}/commands` };
  }

  async start(): Promise<void> {
    const { config, log, outbox } = this.deps;
    const cloud = config.cloud;
    this.stopped = false;
    let caPem: string | undefined;
    if (cloud.ca) {
      try {
        caPem = await readFile(cloud.ca, 'utf8');
      } catch (err) {
        throw new GatewayError('config_invalid', `cloud.ca: cannot read ${cloud.ca}: ${(err as Error).message}`, { details: [{ field: 'cloud.ca', reason: 'file not readable' }], cause: err });
      }
    }
    this.downlink = new Downlink({ log, delivery: this.deps.delivery, deviceExists: this.deps.deviceExists, maxMessageBytes: config.mqtt.max_message_bytes });
    this.batcher = new Batcher({
      outbox, log, mode: cloud.mode, gzip: cloud.gzip, gatewayId: this.gatewayId, batchTopic: this.topics.telemetry,
      maxMessages: cloud.batch_max_messages, maxPacketBytes: cloud.batch_max_bytes, maxAgeMs: cloud.batch_max_age_ms,
      inflight: cloud.inflight_batches, rateLimit: cloud.publish_rate_limit,
    });
    this.bridge = new Bridge({
      url: cloud.url, username: cloud.username, password: cloud.password, caPem, clientId: this.gatewayId,
      will: { topic: this.topics.status, payload: this.statusPayload('offline', 'connection lost') },
      subscriptions: [this.topics.commands],
      backoff: new Backoff({ minMs: cloud.reconnect_min_ms, maxMs: cloud.reconnect_max_ms }),
      log,
      onMessage: (topic, payload) => this.onCloudMessage(topic, payload),
    });
    this.bridge.events.on('up', (link) => this.onUp(link));
    this.bridge.events.on('down', () => this.onDown());
    this.housekeeping = setInterval(() => this.housekeep(), HOUSEKEEPING_MS);
    this.housekeeping.unref();
    this.deps.stats.uplink = () => this.snapshot();
    log.info({ event: 'uplink_starting', url: redactUrl(cloud.url), gateway_id: this.gatewayId, mode: cloud.mode, backlog: outbox.count }, 'uplink starting');
    this.bridge.start();
    this.since = new Date();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.statusTimer);
    clearInterval(this.housekeeping);
    const batcher = this.batcher;
    await this.bridge?.stop(async (link) => {
      // Entries whose PUBACK does not come in time stay in the outbox and are resent after the restart.
      await batcher?.drain(STOP_DRAIN_MS);
      await withTimeout(link.publish(this.topics.status, this.statusPayload('offline', 'stopped'), true), STOP_END_MS);
    }, STOP_END_MS);
    batcher?.stop();
    this.since = new Date();
  }

  /** Drops outbox entries past the age cap (the retention job calls this too). */
  prune(): Promise<number> { return this.deps.outbox.prune(); }

  get state(): UplinkState {
    if (this.stopped || !this.bridge) return 'stopped';
    switch (this.bridge.state) {
      case 'connected': return 'connected';
      case 'waiting': return 'backoff';
      case 'stopped': return 'stopped';
      case 'idle':
      case 'connecting': return 'connecting';
    }
  }

  /** GET /stats `uplink` (and /metrics, /events). */
  snapshot(): Record<string, unknown> {
    const { outbox, config } = this.deps;
    const counters = this.batcher?.counters ?? { batches: 0, messages: 0, payloadBytes: 0 };
    const inflowPerSec = outbox.inflow.perSecond(60);
    const remaining = Math.max(0, config.cloud.outbox_max_bytes - outbox.bytes);
    return {
      state: this.state,
      connected: this.state === 'connected',
      since: this.since.toISOString(),
      gateway_id: this.gatewayId,
      mode: config.cloud.mode,
      backlog: { count: outbox.count, bytes: outbox.bytes, oldest_age_seconds: Math.round(outbox.oldestAgeSeconds()), exact: outbox.exact },
      inflight: this.batcher?.inflightCount ?? 0,
      sent_batches: counters.batches,
      sent_messages: counters.messages,
      sent_bytes: counters.payloadBytes,
      send_rate_per_sec: Math.round((this.batcher?.sendRate.perSecond(SEND_RATE_WINDOW_S) ?? 0) * 10) / 10,
      dropped_total: outbox.droppedTotal,
      // The name /metrics and /events read (ways_edge_outbox_dropped_total).
      dropped: outbox.droppedTotal,
      dropped_by_device: outbox.droppedByDevice(),
      // How long the outbox can take the current inflow while offline before its byte cap drops data.
      absorb_seconds_estimate: config.cloud.outbox_max_bytes > 0 && inflowPerSec > 0 ? Math.round(remaining / inflowPerSec) : null,
      downlink: this.downlink?.counters ?? { delivered: 0, queued: 0, dropped: 0 },
      last_error: this.bridge?.lastError ?? null,
    };
  }

  private onUp(link: Link): void {
    this.since = new Date();
    this.batcher?.online(link);
    void this.publishStatus();
    const every = this.deps.config.cloud.status_interval_seconds;
    clearInterval(this.statusTimer);
    if (every > 0) this.statusTimer = setInterval(() => void this.publishStatus(), every * 1000);
  }

  private onDown(): void {
    this.since = new Date();
    clearInterval(this.statusTimer);
    this.batcher?.offline();
  }

  private async publishStatus(): Promise<void> {
    try {
      await this.batcher?.publishControl(this.topics.status, this.statusPayload('online'), true);
    } catch (err) {
      this.deps.log.debug({ event: 'uplink_status_failed', err }, 'publishing the gateway status failed (resent on the next connect)');
    }
  }

  /** The retained document on `devices/{gateway id}/status`. */
  private statusPayload(status: 'online' | 'offline', reason?: string): Buffer {
    const outbox = this.deps.outbox;
    const doc: Record<string, unknown> = { status, gateway_id: this.gatewayId, version: VERSION };
    if (reason) doc.reason = reason;
    if (status === 'online') {
      doc.at = new Date().toISOString();
      doc.uplink = { backlog: { count: outbox.count, bytes: outbox.bytes, oldest_age_seconds: Math.round(outbox.oldestAgeSeconds()) }, dropped_total: outbox.droppedTotal };
      doc.health = this.deps.healthSummary?.() ?? null;
    }
    return Buffer.from(JSON.stringify(doc));
  }

  private async onCloudMessage(topic: string, payload: Buffer): Promise<void> {
    if (topic !== this.topics.commands || !this.downlink) {
      this.deps.log.warn({ event: 'downlink_dropped', topic, reason: 'unexpected topic' }, `dropped a cloud message on ${topic}`);
      return;
    }
    await this.downlink.handle(payload);
  }

  private housekeep(): void {
    const { outbox, config } = this.deps;
    outbox.tick();
    if (config.cloud.outbox_max_age_hours > 0 && outbox.oldestAgeSeconds() > config.cloud.outbox_max_age_hours * 3600) {
      outbox.prune().catch((err: unknown) => this.deps.log.error({ event: 'outbox_prune_failed', err }, 'pruning the outbox failed'));
    }
  }
}

async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
  } finally {
    clearTimeout(timer);
  }
}
