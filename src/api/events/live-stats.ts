import type { DeviceRegistry } from '../../devices/registry.js';
import type { Presence } from '../../devices/presence.js';
import type { RatesSnapshot, RateTotals } from '../../metering/rates.js';
import type { HealthWarning } from '../../health/types.js';
import type { StatsSources } from '../stats-sources.js';

/** Messages and bytes per second over the last tick (what the dashboard's live chart plots). */
export interface TickRates {
  in_per_sec: number;
  out_per_sec: number;
  bytes_in_per_sec: number;
  bytes_out_per_sec: number;
}

/**
 * The compact snapshot the `stats` event carries every tick: what the overview needs to stay live
 * without polling GET /stats (which also has host health details, quota month totals and so on).
 */
export interface LiveStats {
  at: string;
  devices: { total: number; online: number };
  /** Null until a rates source exists (the broker feeds src/metering/rates.ts). */
  messages: TickRates | null;
  rates: RatesSnapshot | null;
  uplink: Record<string, unknown> & { state: string };
  warnings: HealthWarning[];
  admission: { accepting: boolean; reason: string | null } | null;
}

export interface LiveStatsDeps {
  registry: DeviceRegistry;
  presence: Presence;
  stats: StatsSources;
  /** Whether an uplink is configured, for the state shown while the uplink service is absent. */
  cloudConfigured: boolean;
}

/** Uplink fields worth sending every 2 s; the rest (settings, per-batch details) stays in GET /stats. */
const UPLINK_FIELDS = ['state', 'connected', 'backlog', 'dropped', 'absorb_seconds_estimate', 'last_error', 'since'] as const;

export function liveStats(deps: LiveStatsDeps, messages: TickRates | null, rates: RatesSnapshot | null, now: number): LiveStats {
  const source = deps.stats.uplink?.();
  const picked: Record<string, unknown> = {};
  if (source) for (const field of UPLINK_FIELDS) if (source[field] !== undefined) picked[field] = source[field];
  const state = typeof picked.state === 'string' ? picked.state : deps.cloudConfigured ? 'not_running' : 'disabled';
  const uplink = { ...picked, state };
  return {
    at: new Date(now).toISOString(),
    devices: { total: deps.registry.count, online: deps.presence.onlineCount },
    messages,
    rates,
    uplink,
    warnings: deps.stats.warnings?.() ?? [],
    admission: deps.stats.admission?.() ?? null,
  };
}

/** Per-second rates between two readings of the totals since start; null on the first reading. */
export function tickRates(prev: RateTotals | undefined, next: RateTotals, seconds: number): TickRates | null {
  if (!prev || seconds <= 0) return null;
  const per = (a: number, b: number): number => Math.max(0, Math.round(((b - a) / seconds) * 100) / 100);
  return {
    in_per_sec: per(prev.messages_in, next.messages_in),
    out_per_sec: per(prev.messages_out, next.messages_out),
    bytes_in_per_sec: per(prev.bytes_in, next.bytes_in),
    bytes_out_per_sec: per(prev.bytes_out, next.bytes_out),
  };
}

/** The 1- and 15-minute windows of a rates source, without its totals (those only feed tickRates). */
export function windowRates(source: (RatesSnapshot & { totals: RateTotals }) | undefined): RatesSnapshot | null {
  if (!source) return null;
  const { totals: _totals, ...windows } = source;
  return windows;
}
