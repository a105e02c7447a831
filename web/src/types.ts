/** The API's shapes the page reads (src/api/openapi/schemas.ts is the source of truth). */
export interface Device {
  device_id: string;
  name: string;
  description: string;
  type: string;
  status: 'active' | 'disabled';
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  online: boolean;
  last_seen: string | null;
}

export interface Counters {
  messages_in: number;
  messages_out: number;
  bytes_in: number;
  bytes_out: number;
  throttled: number;
  rejected: number;
}

export interface DeviceDetail extends Device, Counters { counters_period: string }

export interface DeviceList { devices: Device[]; total: number; limit: number; offset: number }

export interface MqttCredentials { username: string; password: string; client_id: string }

export interface DeviceCreated {
  device_id: string;
  name: string;
  type: string;
  status: string;
  mqtt_credentials: MqttCredentials;
  created_at: string;
}

export interface ConnectionInfo { host: string; hosts: string[]; port: number; ca_certificate: string }

export interface Quota {
  max_devices: number;
  current_devices: number;
  max_messages_per_month: number;
  current_messages: number;
  max_bandwidth_gb: number;
  current_bandwidth_gb: number;
}

export interface UsageDay extends Counters { date: string }
export interface Usage { start_date: string; end_date: string; days: UsageDay[]; totals: Counters }

export interface Warning { code: string; message: string }

/**
 * GET /stats. Only `devices` is certain; the other parts come from services that may not run (or
 * exist yet), so the page reads them with pick()/num() and shows "—" for what is absent.
 */
export interface Stats {
  gateway?: { name?: string; version?: string; uptime_seconds?: number; started_at?: string };
  devices: { total: number; online: number; active?: number; disabled?: number };
  messages?: Record<string, unknown>;
  uplink?: Record<string, unknown>;
  host?: Record<string, unknown> | null;
  certificate?: Record<string, unknown> | null;
  admission?: { accepting: boolean; reason: string | null };
  warnings?: Array<Warning | string>;
}

export interface TickRates { in_per_sec: number; out_per_sec: number; bytes_in_per_sec: number; bytes_out_per_sec: number }

/** The `stats` event (src/api/events/live-stats.ts). */
export interface LiveStats {
  at: string;
  devices: { total: number; online: number };
  messages: TickRates | null;
  rates: Record<string, number> | null;
  uplink: Record<string, unknown> & { state: string };
  warnings: Warning[];
  admission: { accepting: boolean; reason: string | null } | null;
}

export interface HelloEvent {
  live: LiveStats;
  history: { at: number[]; in_per_sec: number[]; out_per_sec: number[] };
  tick_ms: number;
  heartbeat_ms: number;
}

export interface DeviceRateEvent extends TickRates { device_id: string; today: Counters }

export interface PresenceEvent { device_id: string; online: boolean; last_seen: string | null }

export interface CommandResult { command_id: string; status: string }
