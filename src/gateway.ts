import type { GatewayConfig } from './config/schema.js';
import type { Logger } from './log.js';
import type { Service } from './lifecycle.js';
import { Store } from './store/store.js';
import { GroupCommit } from './store/group-commit.js';
import { loadOrCreateTls, type TlsMaterial } from './certs/tls-material.js';
import { ApiKeys } from './auth/api-keys.js';
import { DeviceRegistry } from './devices/registry.js';
import { Presence } from './devices/presence.js';
import { Meter } from './metering/meter.js';
import { Readiness } from './readiness.js';
import { createApp, type RouteEntry } from './api/app.js';
import { ApiServer } from './api/server.js';
import type { StatsSources } from './api/stats-sources.js';

/**
 * The composition root: builds every service, starts them in order and stops them in reverse.
 * It is the only place that knows the order:
 *   store → certificates → API keys → devices → metering → API listener.
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
  private tls: TlsMaterial | undefined;
  /** Every route the API serves (the OpenAPI test compares them with the document). */
  apiRoutes: RouteEntry[] = [];
  private api: ApiServer | undefined;
  private readonly started: Service[] = [];
  private stopping: Promise<void> | undefined;

  constructor(readonly config: GatewayConfig, readonly log: Logger) {
    this.store = new Store(config.data_dir);
    this.commits = new GroupCommit(this.store.raw);
    this.apiKeys = new ApiKeys({ store: this.store, dataDir: config.data_dir, log });
    this.registry = new DeviceRegistry({ store: this.store, maxDevices: config.quota.max_devices });
    this.meter = new Meter({ store: this.store, timeZone: config.gateway.timezone });
    this.commits.addContributor(this.meter);
    this.readiness.require('store');
    this.readiness.require('api');
  }

  get apiPort(): number { return this.api?.port ?? 0; }
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
      const { koa, routes } = createApp({
        config: this.config, log: this.log, registry: this.registry, presence: this.presence, apiKeys: this.apiKeys,
        meter: this.meter, tls: this.tls, readiness: this.readiness, stats: this.stats, startedAt: this.startedAt,
      });
      this.apiRoutes = routes;
      this.api = new ApiServer({ app: koa, config: this.config, tls: this.tls, log: this.log });
      await this.run(this.api);
      this.readiness.set('api', true);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.log.info({ event: 'ready', devices: this.registry.count, start_ms: Math.round(performance.now() - t0) }, 'gateway ready');
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
