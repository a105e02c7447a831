/** What one host health sample holds (GET /stats `host`, /metrics, the uplink's status message). */

export interface CpuSample {
  /** Load averages of the host (os.loadavg). */
  load_1m: number;
  load_5m: number;
  load_15m: number;
  cores: number;
  /** Busy share of all cores since the previous sample, 0–100; null on the first sample. */
  usage_percent: number | null;
  /** Share of time waiting for I/O (an SD card that is too slow shows here), 0–100; null when unknown. */
  iowait_percent: number | null;
}

export interface MemorySample {
  total_bytes: number;
  /** What new work can use without swapping (MemAvailable). */
  available_bytes: number;
  used_percent: number;
}

export interface DiskUsage {
  /** The directory whose filesystem this describes (the data directory). */
  path: string;
  total_bytes: number;
  /** Free space an unprivileged process may use (f_bavail), which is what the gateway can write. */
  free_bytes: number;
  used_percent: number;
}

/** Raspberry Pi firmware throttling flags (`get_throttled`). */
export interface ThrottlingFlags {
  /** The raw bit field as the firmware reports it, e.g. "0x50005". */
  raw: string;
  under_voltage: boolean;
  arm_freq_capped: boolean;
  throttled: boolean;
  soft_temp_limit: boolean;
  under_voltage_occurred: boolean;
  arm_freq_capped_occurred: boolean;
  throttled_occurred: boolean;
  soft_temp_limit_occurred: boolean;
}

export interface ProcessSample {
  /** CPU the gateway process used since the previous sample, percent of one core. */
  cpu_percent: number | null;
  rss_bytes: number;
  heap_used_bytes: number;
  uptime_seconds: number;
}

export interface HostSample {
  sampled_at: string;
  cpu: CpuSample;
  /** CPU temperature; null where the host exposes none (VMs, containers). */
  temperature_celsius: number | null;
  memory: MemorySample;
  disk: DiskUsage | null;
  /** Host uptime. */
  uptime_seconds: number;
  network: { up: string[]; down: string[] };
  /** Null where there is no Raspberry Pi firmware to ask — not "all clear". */
  throttling: ThrottlingFlags | null;
  /** True/false when the time daemon says so; null when that cannot be told cheaply and honestly. */
  clock_synchronized: boolean | null;
  process: ProcessSample;
  /** CPU time this sample itself cost, in milliseconds (user + system). */
  sample_cpu_ms: number;
}

/** Something an operator should look at; `code` is stable, `message` says what and how much. */
export interface HealthWarning {
  code: 'disk_nearly_full' | 'disk_low' | 'under_voltage' | 'under_voltage_occurred' | 'throttled' | 'clock_not_synchronized' | 'certificate_expiring' | 'certificate_expired';
  message: string;
}

export interface CertificateStatus {
  not_after: string;
  /** Whole days until expiry; negative once expired. */
  expires_in_days: number;
  expires_in_seconds: number;
  state: 'ok' | 'expiring' | 'expired';
}
