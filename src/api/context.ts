import type { ParameterizedContext } from 'koa';
import type { RouterContext } from '@koa/router';
import type { GatewayConfig } from '../config/schema.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { Presence } from '../devices/presence.js';
import type { ApiKeys, ApiKeyPrincipal } from '../auth/api-keys.js';
import type { Meter } from '../metering/meter.js';
import type { TlsMaterial } from '../certs/tls-material.js';
import type { Readiness } from '../readiness.js';
import type { Logger } from '../log.js';
import type { StatsSources } from './stats-sources.js';

/** Everything the API's routers read from; built once by src/gateway.ts. */
export interface ApiDeps {
  config: GatewayConfig;
  log: Logger;
  registry: DeviceRegistry;
  presence: Presence;
  apiKeys: ApiKeys;
  meter: Meter;
  /** The certificate material in use now (a SIGHUP may replace it). */
  tls: () => TlsMaterial;
  readiness: Readiness;
  /** Parts that report into /stats; each is optional until its service exists. */
  stats: StatsSources;
  startedAt: Date;
  /** The MQTT TLS port actually listening (differs from config when mqtt.port is 0). */
  mqttPort: () => number;
}

export interface ApiState { principal?: ApiKeyPrincipal }
export type ApiContext = ParameterizedContext<ApiState>;
export type ApiRouterContext = RouterContext<ApiState>;
