/**
 * What other services contribute to GET /stats (and /metrics). A source is registered by the service
 * that owns the figures when it starts; until then /stats reports the part as absent, never made up.
 */
export interface StatsSources {
  /** Broker: message and byte rates. */
  broker?: () => Record<string, unknown>;
  /** Uplink: state and backlog. */
  uplink?: () => Record<string, unknown>;
  /** Host health: latest sample. */
  host?: () => Record<string, unknown> | null;
  /** Active warnings (disk, throttling, clock, certificate). */
  warnings?: () => string[];
}
