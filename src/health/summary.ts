import type { HealthWarning, HostSample } from './types.js';

/**
 * The small status document the uplink publishes on the gateway's status topic every
 * cloud.status_interval_seconds: enough for a fleet view, small enough to send often (~500 bytes).
 */
export interface HealthSummary {
  name: string;
  version: string;
  started_at: string;
  uptime_seconds: number;
  sampled_at: string | null;
  cpu_load_1m: number | null;
  cpu_usage_percent: number | null;
  temperature_celsius: number | null;
  memory_used_percent: number | null;
  disk_used_percent: number | null;
  disk_free_bytes: number | null;
  /** The raw firmware bit field ("0x50005"), or null off a Pi. */
  throttled: string | null;
  clock_synchronized: boolean | null;
  devices: { online: number; total: number };
  accepting_telemetry: boolean;
  warnings: Array<HealthWarning['code']>;
}

export function healthSummary(parts: {
  name: string; version: string; startedAt: Date; now: number;
  sample: HostSample | null; devicesOnline: number; devicesTotal: number; accepting: boolean; warnings: HealthWarning[];
}): HealthSummary {
  const s = parts.sample;
  return {
    name: parts.name,
    version: parts.version,
    started_at: parts.startedAt.toISOString(),
    uptime_seconds: Math.max(0, Math.round((parts.now - parts.startedAt.getTime()) / 1000)),
    sampled_at: s?.sampled_at ?? null,
    cpu_load_1m: s?.cpu.load_1m ?? null,
    cpu_usage_percent: s?.cpu.usage_percent ?? null,
    temperature_celsius: s?.temperature_celsius ?? null,
    memory_used_percent: s?.memory.used_percent ?? null,
    disk_used_percent: s?.disk?.used_percent ?? null,
    disk_free_bytes: s?.disk?.free_bytes ?? null,
    throttled: s?.throttling?.raw ?? null,
    clock_synchronized: s?.clock_synchronized ?? null,
    devices: { online: parts.devicesOnline, total: parts.devicesTotal },
    accepting_telemetry: parts.accepting,
    warnings: parts.warnings.map((w) => w.code),
  };
}
