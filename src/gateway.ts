import { X509Certificate } from 'node:crypto';
import { writeToStream } from 'mqtt-packet';
import type { GatewayConfig } from './config/schema.js';
import type { Logger } from './log.js';
import type { Service } from './lifecycle.js';
import { Store, asStoreFailure } from './store/store.js';
import { GroupCommit } from './store/group-commit.js';
import { checkTlsMaterial, loadOrCreateTls, type TlsMaterial } from './certs/tls-material.js';
import { ApiKeys } from './auth/api-keys.js';
import { DeviceRegistry } from './devices/registry.js';
import { Presence } from './devices/presence.js';
import { Meter } from './metering/meter.js';
import { Readiness } from './readiness.js';
import { createApp, type RouteEntry } from './api/app.js';
import { ApiServer } from './api/server.js';
import type { StatsSources } from './api/stats-sources.js';
import { metricsRouter } from './api/routes/metrics.js';
import { MessageRates } from './metering/rates.js';
import { Admission } from './health/admission.js';
import { HealthMonitor } from './health/monitor.js';
import type { GatewayMetrics } from './health/prometheus.js';
import { Scheduler } from './jobs/scheduler.js';
import { gatewayJobs } from './jobs/catalog.js';
import { Retention } from './jobs/retention.js';
import { Compaction } from './jobs/compaction.js';
import { QuotaPeriod } from './jobs/quota-period.js';
import { VERSION } from './version.js';
import { BrokerService } from './broker/broker.js';
import type { IngestSink } from './broker/ingest.js';
import { deviceMessagesRouter } from './api/routes/device-messages.js';
import { Outbox, sendWindowOf } from './uplink/outbox.js';
import { Uplink } from './uplink/uplink.js';
import { EventHub } from './api/events/hub.js';
import { eventsRouter } from './api/routes/events.js';
import { dashboardRouter, loadDashboard } from './api/routes/dashboard.js';
import { MdnsDiscovery } from './discovery/mdns.js';
import { announcedServices } from './discovery/records.js';

// mqtt-packet (aedes' and the uplink's packet writer) by default builds a 2-byte Buffer for each of
// the 65,536 packet ids and lengths on the first packet written and keeps them for good: ~6.5 MB of
// heap, a tenth of a Pi gateway's idle footprint. Writing the two bytes per packet instead costs
// about 0.2 µs a packet. Process-wide, so set once here, before any packet is written.
writeToStream.cacheNumbers = false;

/**
 * The composition root: builds every service, starts them in order and stops them in reverse.
 * It is the only place that knows the order:
 *   store → certificates → API keys → devices → metering → health → outbox → MQTT broker → uplink →
 *   API listener → mDNS discovery → jobs.
 * The outbox is ready before the broker takes the first message; the uplink (cloud link, downlink of
 * commands through the broker) runs only while the broker does.
 */
export class Gateway {
  readonly readiness = new Readiness();
  readonly presence = new Presence();
  readonly stats: StatsSources = {};
  readonly startedAt = new Date();
  readonly store: Store;
  readonly commits: GroupCommit;
  readonly apiKeys: ApiKeys;
  readonly registry: DeviceRegistry;
  readonly meter: Meter;
  /** Message rates for /stats and /metrics: the broker calls `rates.record('in' | 'out', bytes)` per message. */
  readonly rates = new MessageRates();
  /** Whether new telemetry is taken: the broker's authorizePublish asks `admission.accepting()`. */
  readonly admission = new Admission();
  /** Host health; `health.summary()` is what the uplink publishes on its status topic. */
  readonly health: HealthMonitor;
  /** Retention; the uplink adds its outbox with `retention.add({name: 'outbox', prune})`. */
  readonly retention: Retention;
  /** The periodic jobs (node-cron); `jobs.events` says when each ran. */
  readonly jobs: Scheduler;
  /**
   * Where the broker hands accepted device messages before acknowledging them (src/broker/ingest.ts).
   * A service that owns a sink pushes it here before the broker starts (the uplink's outbox).
   */
  readonly ingestSinks: IngestSink[] = [];
  /** The uplink's durable outbox; absent when cloud.url is empty (then nothing is written for the cloud). */
  readonly outbox: Outbox | undefined;
  private uplinkService: Uplink | undefined;
  /** The dashboard's live events (GET /v1/iot/events): presence, registry changes, a stats tick. */
  readonly events: EventHub;
  private tls: TlsMaterial | undefined;
  private broker: BrokerService | undefined;
  /** Every route the API serves (the OpenAPI test compares them with the document). */
  apiRoutes: RouteEntry[] = [];
  private api: ApiServer | undefined;
  private discoveryService: MdnsDiscovery | undefined;
  /** Certificate reloads run one at a time (two quick SIGHUPs must not interleave). */
  private reloading: Promise<unknown> = Promise.resolve();
  private readonly started: Service[] = [];
  private stopping: Promise<void> | undefined;

  /** `opts.now` replaces the clock of metering, the quota period and certificate checks (tests cross a month with it). */
  constructor(readonly config: GatewayConfig, readonly log: Logger, opts: { now?: () => Date } = {}) {
    const now = opts.now ?? ((): Date => new Date());
    this.store = new Store(config.data_dir, { log });
    this.commits = new GroupCommit(this.store.raw);
    this.apiKeys = new ApiKeys({ store: this.store, dataDir: config.data_dir, log });
    this.registry = new DeviceRegistry({ store: this.store, maxDevices: config.quota.max_devices });
    // The meter gets the real clock as undefined: its per-message path then skips making a Date.
    this.meter = new Meter({ store: this.store, timeZone: config.gateway.timezone, ...(opts.now ? { now: opts.now } : {}) });
    this.commits.addContributor(this.meter);
    this.health = new HealthMonitor({
      log, dataDir: config.data_dir, name: config.gateway.name, version: VERSION, startedAt: this.startedAt, settings: config.health,
      admission: this.admission, certificateNotAfter: () => this.tls?.notAfter, now: () => now().getTime(),
      devices: () => ({ online: this.presence.onlineCount, total: this.registry.count }),
    });
    const meta = this.store.json<unknown>('meta');
    const compaction = new Compaction({ db: this.store.raw, meta, log });
    this.retention = new Retention({ meter: this.meter, usageRetentionDays: config.jobs.usage_retention_days, compaction, log });
    if (config.cloud.url) {
      const cloud = config.cloud;
      const outbox = new Outbox({
        store: this.store, commits: this.commits, log, maxBytes: cloud.outbox_max_bytes, maxAgeHours: cloud.outbox_max_age_hours,
        sendWindow: sendWindowOf(cloud),
      });
      this.outbox = outbox;
      this.ingestSinks.push(outbox);
      this.retention.add({ name: 'outbox', prune: () => outbox.prune() });
    }
    const quotaPeriod = new QuotaPeriod({ meter: this.meter, commits: this.commits, meta, timeZone: config.gateway.timezone, log, now });
    this.jobs = new Scheduler({
      jobs: gatewayJobs({ config, log, health: this.health, meter: this.meter, commits: this.commits, meta, quotaPeriod, retention: this.retention, compaction, now }),
      timeZone: config.gateway.timezone, log,
    });
    this.stats.host = () => this.health.host;
    this.stats.warnings = () => this.health.warnings;
    this.stats.certificate = () => this.health.certificate;
    this.stats.rates = () => ({ ...this.rates.snapshot(), totals: { ...this.rates.totals } });
    this.stats.admission = () => ({ accepting: this.admission.accepting(), reason: this.admission.reason });
    this.events = new EventHub({ registry: this.registry, presence: this.presence, meter: this.meter, stats: this.stats, log, cloudConfigured: Boolean(config.cloud.url) });
    this.readiness.require('store');
    this.readiness.require('api');
    this.readiness.require('broker');
    // From a failed write (a full disk) until LevelDB has reopened, the store refuses writes: not ready meanwhile.
    this.store.events.on('write_failed', (why) => this.readiness.set('store', false,
      `the store refuses writes while it recovers from a failed write (${why}); it reopens by itself once the disk has room`));
    this.store.events.on('reopened', () => { if (!this.stopping) this.readiness.set('store', true); });
  }

  get apiPort(): number { return this.api?.port ?? 0; }
  /** The MQTT broker once started (its `events` say when a client subscribed). */
  get mqtt(): BrokerService | undefined { return this.broker; }
  /** The TLS MQTT port (the real one when mqtt.port is 0), and the plain one (0 when off). */
  get mqttPort(): number { return this.broker?.port ?? 0; }
  get mqttPlainPort(): number { return this.broker?.plainPort ?? 0; }
  /** The cloud uplink while it runs (undefined when cloud.url is empty). */
  get uplink(): Uplink | undefined { return this.uplinkService; }
  /** The mDNS announcements while they run (undefined when discovery.enabled is false). */
  get discovery(): MdnsDiscovery | undefined { return this.discoveryService; }
  get tlsMaterial(): TlsMaterial {
    if (!this.tls) throw new Error('gateway not started');
    return this.tls;
  }

  async start(): Promise<void> {
    const t0 = performance.now();
    try {
      await this.run(this.store);
      this.readiness.set('store', true);
      this.tls = await loadOrCreateTls(this.config, this.log);
      await this.run(this.apiKeys);
      await this.run(this.registry);
      await this.run(this.meter);
      await this.run(this.health);
      if (this.outbox) await this.run(this.outbox);
      const apiDeps = {
        config: this.config, log: this.log, registry: this.registry, presence: this.presence, apiKeys: this.apiKeys,
        meter: this.meter, tls: () => this.tlsMaterial, readiness: this.readiness, stats: this.stats, startedAt: this.startedAt,
        mqttPort: () => this.mqttPort,
      };
      this.broker = new BrokerService({
        config: this.config, log: this.log, store: this.store, commits: this.commits, tls: this.tls, registry: this.registry, apiKeys: this.apiKeys,
        meter: this.meter, rates: this.rates, admission: this.admission, presence: this.presence, sinks: this.ingestSinks, stats: this.stats,
      });
      await this.run(this.broker);
      this.readiness.set('broker', true);
      if (this.outbox) {
        const broker = this.broker;
        this.uplinkService = new Uplink({
          config: this.config, log: this.log, outbox: this.outbox, stats: this.stats,
          delivery: () => broker, deviceExists: (id) => this.registry.get(id) !== undefined, healthSummary: () => this.health.summary(),
        });
        await this.run(this.uplinkService);
      }
      // Made on the first scrape: prom-client and the metric objects cost ~0.7 MB of heap, and many
      // gateways are never scraped.
      let metrics: Promise<GatewayMetrics> | undefined;
      const loadMetrics = (): Promise<GatewayMetrics> => metrics ??= import('./health/prometheus.js').then(({ GatewayMetrics: Metrics }) =>
        new Metrics({ ...apiDeps, commits: this.commits, healthCounters: () => this.health.counters, jobs: () => this.jobs.snapshot() }));
      await this.run(this.events);
      const dashboard = await loadDashboard();
      const { koa, routes } = createApp(apiDeps, {
        root: [metricsRouter(apiDeps, loadMetrics), dashboardRouter(dashboard)],
        api: [deviceMessagesRouter(apiDeps, this.broker), eventsRouter(apiDeps, this.events)],
      });
      this.apiRoutes = routes;
      this.api = new ApiServer({ app: koa, config: this.config, tls: this.tls, log: this.log });
      await this.run(this.api);
      this.readiness.set('api', true);
      if (this.config.discovery.enabled) {
        // After the listeners, with the ports they actually got: nothing is announced before it answers.
        const { gateway, mqtt, api } = this.config;
        this.discoveryService = new MdnsDiscovery({
          log: this.log,
          services: announcedServices({ gatewayName: gateway.name, mqtt: { host: mqtt.host, port: this.mqttPort }, api: { host: api.host, port: this.apiPort, tls: api.tls } }),
        });
        await this.run(this.discoveryService);
      }
      // Last to start, first to stop: no job runs against a service that is not up.
      await this.run(this.jobs);
    } catch (err) {
      await this.stop();
      // A damaged table is found only when a service first reads it: say so clearly (src/store/store.ts).
      throw asStoreFailure(err, this.store.location);
    }
    this.log.info({ event: 'ready', devices: this.registry.count, start_ms: Math.round(performance.now() - t0) }, 'gateway ready');
  }

  /**
   * SIGHUP: re-reads the certificate files (tls.cert_file/key_file/ca_file, or the generated ones in
   * data_dir/certs) and, when they are sound, gives them to the MQTT TLS listener and the HTTPS API.
   * Connections already up keep their session; new handshakes get the new certificate, and
   * GET /credentials hands out the new CA. Bad files are logged and the current certificate stays.
   * Resolves to whether the new material is in use.
   */
  reloadCertificates(): Promise<boolean> {
    const run = this.reloading.then(() => this.reloadCertificatesNow());
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async reloadCertificatesNow(): Promise<boolean> {
    const current = this.tls;
    if (!current || this.stopping) {
      this.log.warn({ event: 'certificates_reload_skipped' }, 'certificate reload skipped: the gateway is not running');
      return false;
    }
    let next: TlsMaterial;
    try {
      next = await loadOrCreateTls(this.config, this.log);
      checkTlsMaterial(next);
    } catch (err) {
      const message = (err as Error).message;
      this.log.error({ event: 'certificates_reload_failed', error: message }, `certificate reload failed, the current certificate stays in use: ${message}`);
      return false;
    }
    this.broker?.setTls(next);
    this.api?.setTls(next);
    this.tls = next;
    this.health.checkCertificate();
    this.log.info({
      event: 'certificates_reloaded', cert_file: next.certFile, fingerprint256: new X509Certificate(next.certPem).fingerprint256,
      not_after: next.notAfter.toISOString(), ca_changed: next.caPem !== current.caPem,
    }, 'certificates reloaded: new connections get the new certificate, connected clients stay connected');
    return true;
  }

  private async run(service: Service): Promise<void> {
    await service.start();
    this.started.push(service);
  }

  /** Stops every started service in reverse order; safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const part of Object.keys(this.readiness.snapshot())) this.readiness.set(part, false);
      while (this.started.length > 0) {
        const service = this.started.pop() as Service;
        try {
          await service.stop();
        } catch (err) {
          this.log.error({ event: 'stop_failed', service: service.name, err }, `stopping ${service.name} failed`);
        }
      }
      this.log.info({ event: 'stopped' }, 'gateway stopped');
    })();
    return this.stopping;
  }
}
