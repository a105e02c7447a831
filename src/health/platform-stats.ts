import type { GatewayConfig } from '../config/schema.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { Presence } from '../devices/presence.js';
import type { Meter } from '../metering/meter.js';
import type { RatesSnapshot, RateTotals } from '../metering/rates.js';
import type { StatsSources } from '../api/stats-sources.js';
import { VERSION } from '../version.js';
import type { CertificateStatus, HealthWarning, HostSample } from './types.js';

export interface PlatformStatsDeps {
  config: GatewayConfig;
  registry: DeviceRegistry;
  presence: Presence;
  meter: Meter;
  stats: StatsSources;
  startedAt: Date;
}

/** The body of GET /v1/iot/stats. /metrics renders the same object, so the two always agree. */
export interface PlatformStats {
  gateway: { name: string; version: string; started_at: string; uptime_seconds: number };
  devices: { total: number; online: number; active: number; disabled: number };
  messages: {
    /** The calendar month (gateway.timezone) the quota counts, and its messages and bytes (in + out). */
    month: string; messages: number; bytes: number;
    /** Per-second rates over 1 and 15 minutes, and totals since start; null until the rates exist. */
    rates: RatesSnapshot | null;
    since_start: RateTotals | null;
    [broker: string]: unknown;
  };
  uplink: Record<string, unknown> & { state: string };
  host: HostSample | null;
  admission: { accepting: boolean; reason: string | null };
  certificate: CertificateStatus | null;
  warnings: HealthWarning[];
}

export function platformStats(deps: PlatformStatsDeps, now = Date.now()): PlatformStats {
  const all = deps.registry.all();
  let active = 0;
  for (const d of all) if (d.status === 'active') active += 1;
  const month = deps.meter.monthUsage();
  const rates = deps.stats.rates?.();
  const uplink = deps.stats.uplink?.();
  return {
    gateway: {
      name: deps.config.gateway.name,
      version: VERSION,
      started_at: deps.startedAt.toISOString(),
      uptime_seconds: Math.max(0, Math.round((now - deps.startedAt.getTime()) / 1000)),
    },
    devices: { total: all.length, online: deps.presence.onlineCount, active, disabled: all.length - active },
    messages: {
      month: deps.meter.currentMonth,
      messages: month.messages,
      bytes: month.bytes,
      rates: rates ? withoutTotals(rates) : null,
      since_start: rates?.totals ?? null,
      ...(deps.stats.broker?.() ?? {}),
    },
    uplink: uplink && typeof uplink.state === 'string' ? (uplink as PlatformStats['uplink']) : { ...uplink, state: deps.config.cloud.url ? 'not_running' : 'disabled' },
    host: deps.stats.host?.() ?? null,
    admission: deps.stats.admission?.() ?? { accepting: true, reason: null },
    certificate: deps.stats.certificate?.() ?? null,
    warnings: deps.stats.warnings?.() ?? [],
  };
}

function withoutTotals(r: RatesSnapshot & { totals: RateTotals }): RatesSnapshot {
  const { totals: _totals, ...rest } = r;
  return rest;
}
