import type { RatesSnapshot, RateTotals } from '../metering/rates.js';
import type { CertificateStatus, HealthWarning, HostSample } from '../health/types.js';

/**
 * What other services contribute to GET /stats (and /metrics). A source is registered by the service
 * that owns the figures when it starts; until then /stats reports the part as absent, never made up.
 */
export interface StatsSources {
  /** Broker: message and byte rates. */
  broker?: () => Record<string, unknown>;
  /**
   * Uplink: state and backlog. /metrics reads these fields when present: `state` (string),
   * `connected` (boolean), `backlog: {count, bytes, oldest_age_seconds}`, `dropped` (number).
   */
  uplink?: () => Record<string, unknown>;
  /** Host health: latest sample. */
  host?: () => HostSample | null;
  /** Active warnings (disk, throttling, clock, certificate). */
  warnings?: () => HealthWarning[];
  /** Message rates over 1 and 15 minutes and totals since start (src/metering/rates.ts). */
  rates?: () => RatesSnapshot & { totals: RateTotals };
  /** Whether new telemetry is taken (src/health/admission.ts). */
  admission?: () => { accepting: boolean; reason: string | null };
  /** The server certificate's expiry. */
  certificate?: () => CertificateStatus | null;
}
