import { Counter, Gauge, Registry } from 'prom-client';
import type { GatewayConfig } from '../config/schema.js';
import type { JobStats } from '../jobs/scheduler.js';
import { BYTES_PER_GB } from '../metering/quota.js';
import { VERSION } from '../version.js';
import { platformStats, type PlatformStats, type PlatformStatsDeps } from './platform-stats.js';
import { processMetrics } from './process-metrics.js';
import type { ThrottlingFlags } from './types.js';

export interface MetricsDeps extends PlatformStatsDeps {
  config: GatewayConfig;
  commits: { counters: { batches: number; ops: number } };
  healthCounters: () => { samples: number; sample_cpu_ms: number };
  jobs: () => JobStats[];
}

type Snapshot = { stats: PlatformStats; jobs: JobStats[]; commits: { batches: number; ops: number }; health: { samples: number; sample_cpu_ms: number } };
type Read = (s: Snapshot) => number | null | undefined;
type ReadLabelled = (s: Snapshot) => Array<[Record<string, string>, number]>;

const THROTTLING_FLAGS: Array<keyof Omit<ThrottlingFlags, 'raw'>> = [
  'under_voltage', 'arm_freq_capped', 'throttled', 'soft_temp_limit',
  'under_voltage_occurred', 'arm_freq_capped_occurred', 'throttled_occurred', 'soft_temp_limit_occurred',
];

/**
 * The gateway's Prometheus metrics, in a Registry of its own (two gateways in one process do not
 * clash). Every value is read at scrape time by collect() from one platformStats() snapshot — the
 * object GET /stats returns — so /metrics and /stats agree. A figure whose source is absent (no
 * uplink, no thermal sensor) has no sample rather than a made-up zero.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private snapshot: Snapshot | undefined;

  constructor(private readonly deps: MetricsDeps) {
    const q = deps.config.quota;
    this.gauge('ways_edge_info', 'Gateway name and version (always 1).', () => [[{ name: deps.config.gateway.name, version: VERSION }, 1]], ['name', 'version']);
    this.gauge('ways_edge_uptime_seconds', 'Seconds since the gateway started.', (s) => s.stats.gateway.uptime_seconds);
    this.gauge('ways_edge_devices', 'Registered devices.', (s) => s.stats.devices.total);
    this.gauge('ways_edge_devices_online', 'Devices connected now.', (s) => s.stats.devices.online);
    this.gauge('ways_edge_devices_disabled', 'Registered devices that are disabled.', (s) => s.stats.devices.disabled);
    this.counter('ways_edge_messages_received_total', 'Messages received from devices and applications since start.', (s) => s.stats.messages.since_start?.messages_in);
    this.counter('ways_edge_bytes_received_total', 'Payload bytes received since start.', (s) => s.stats.messages.since_start?.bytes_in);
    this.counter('ways_edge_messages_sent_total', 'Messages delivered to local subscribers since start.', (s) => s.stats.messages.since_start?.messages_out);
    this.counter('ways_edge_bytes_sent_total', 'Payload bytes delivered to local subscribers since start.', (s) => s.stats.messages.since_start?.bytes_out);
    this.gauge('ways_edge_quota_messages_used', 'Messages (in + out) counted in the current quota month.', (s) => s.stats.messages.messages);
    this.gauge('ways_edge_quota_messages_limit', 'quota.max_messages_per_month.', () => q.max_messages_per_month);
    this.gauge('ways_edge_quota_bytes_used', 'Bytes (in + out) counted in the current quota month.', (s) => s.stats.messages.bytes);
    this.gauge('ways_edge_quota_bytes_limit', 'quota.max_bandwidth_gb in bytes.', () => q.max_bandwidth_gb * BYTES_PER_GB);
    this.gauge('ways_edge_uplink_connected', '1 while the uplink to the cloud is connected.', (s) => uplinkConnected(s.stats.uplink));
    this.gauge('ways_edge_outbox_entries', 'Messages waiting in the outbox for the cloud.', (s) => num(s.stats.uplink, 'backlog', 'count'));
    this.gauge('ways_edge_outbox_bytes', 'Bytes waiting in the outbox.', (s) => num(s.stats.uplink, 'backlog', 'bytes'));
    this.gauge('ways_edge_outbox_oldest_age_seconds', 'Age of the oldest outbox entry.', (s) => num(s.stats.uplink, 'backlog', 'oldest_age_seconds'));
    this.counter('ways_edge_outbox_dropped_total', 'Outbox entries dropped at its byte or age cap.', (s) => num(s.stats.uplink, 'dropped'));
    this.counter('ways_edge_mqtt_queued_dropped_total', 'Messages dropped from offline persistent sessions at mqtt.max_queued_messages_per_client.', (s) => num(s.stats.messages, 'queued_dropped'));
    this.gauge('ways_edge_accepting_telemetry', '0 while new telemetry is refused (disk below health.disk_min_free_bytes).', (s) => (s.stats.admission.accepting ? 1 : 0));
    this.gauge('ways_edge_cpu_load1', 'Host load average over 1 minute.', (s) => s.stats.host?.cpu.load_1m);
    this.gauge('ways_edge_cpu_load5', 'Host load average over 5 minutes.', (s) => s.stats.host?.cpu.load_5m);
    this.gauge('ways_edge_cpu_load15', 'Host load average over 15 minutes.', (s) => s.stats.host?.cpu.load_15m);
    this.gauge('ways_edge_cpu_usage_ratio', 'Busy share of all host cores between the last two samples (0-1).', (s) => ratio(s.stats.host?.cpu.usage_percent));
    this.gauge('ways_edge_cpu_temperature_celsius', 'CPU temperature.', (s) => s.stats.host?.temperature_celsius);
    this.gauge('ways_edge_memory_total_bytes', 'Host memory.', (s) => s.stats.host?.memory.total_bytes);
    this.gauge('ways_edge_memory_available_bytes', 'Host memory available without swapping.', (s) => s.stats.host?.memory.available_bytes);
    this.gauge('ways_edge_disk_size_bytes', 'Size of the data filesystem.', (s) => s.stats.host?.disk?.total_bytes);
    this.gauge('ways_edge_disk_free_bytes', 'Free space on the data filesystem (what the gateway may use).', (s) => s.stats.host?.disk?.free_bytes);
    this.gauge('ways_edge_throttling', 'Raspberry Pi firmware throttling flags (1 = set); absent off a Pi.', (s) => {
      const t = s.stats.host?.throttling;
      return t ? THROTTLING_FLAGS.map((flag) => [{ flag }, t[flag] ? 1 : 0]) : [];
    }, ['flag']);
    this.gauge('ways_edge_clock_synchronized', '1 when the clock is synchronised, 0 when not; absent when unknown.', (s) => bool(s.stats.host?.clock_synchronized));
    this.gauge('ways_edge_certificate_expiry_seconds', 'Seconds until the server certificate expires (negative once expired).', (s) => s.stats.certificate?.expires_in_seconds);
    this.gauge('ways_edge_warning', 'Active warnings (1 per warning code).', (s) => s.stats.warnings.map((w) => [{ code: w.code }, 1]), ['code']);
    this.counter('ways_edge_store_commits_total', 'Synced LevelDB batches written by the group commit.', (s) => s.commits.batches);
    this.counter('ways_edge_store_commit_operations_total', 'Operations written by the group commit.', (s) => s.commits.ops);
    this.counter('ways_edge_health_samples_total', 'Host health samples taken.', (s) => s.health.samples);
    this.counter('ways_edge_health_sample_cpu_seconds_total', 'CPU time spent taking host health samples.', (s) => s.health.sample_cpu_ms / 1000);
    this.counter('ways_edge_job_runs_total', 'Runs of each periodic job.', (s) => s.jobs.map((j) => [{ job: j.name }, j.runs]), ['job']);
    this.counter('ways_edge_job_failures_total', 'Failed runs of each periodic job.', (s) => s.jobs.map((j) => [{ job: j.name }, j.failures]), ['job']);
    this.gauge('ways_edge_job_last_success_timestamp_seconds', 'When each job last succeeded (Unix time).', (s) => s.jobs.flatMap((j) => (j.last_success_at ? [[{ job: j.name }, Date.parse(j.last_success_at) / 1000] as [Record<string, string>, number]] : [])), ['job']);
  }

  /** Prometheus text for one scrape: the gateway's metrics followed by the process's. */
  async render(): Promise<{ contentType: string; body: string }> {
    this.snapshot = {
      stats: platformStats(this.deps),
      jobs: this.deps.jobs(),
      commits: { ...this.deps.commits.counters },
      health: this.deps.healthCounters(),
    };
    const own = await this.registry.metrics();
    const proc = await processMetrics().metrics();
    return { contentType: this.registry.contentType, body: own + proc };
  }

  private gauge(name: string, help: string, read: Read | ReadLabelled, labelNames: string[] = []): void {
    const metric: SnapshotGauge = new SnapshotGauge({
      name, help, labelNames, registers: [this.registry],
      collect: () => fill(metric, this.snapshot, read, labelNames.length > 0, (labels, v) => metric.set(labels, v)),
    });
  }

  /** Counters mirror totals kept elsewhere: reset and set to the current total at each scrape. */
  private counter(name: string, help: string, read: Read | ReadLabelled, labelNames: string[] = []): void {
    const metric: SnapshotCounter = new SnapshotCounter({
      name, help, labelNames, registers: [this.registry],
      collect: () => fill(metric, this.snapshot, read, labelNames.length > 0, (labels, v) => metric.inc(labels, v)),
    });
  }
}

/**
 * prom-client gives an unlabelled metric a value of 0 even when nothing was set; these two let a
 * scrape leave it without a sample when its source is absent (no sensor, no uplink).
 */
class SnapshotGauge extends Gauge<string> {
  present = true;
  override async get(): ReturnType<Gauge<string>['get']> {
    const m = await super.get();
    return this.present ? m : { ...m, values: [] };
  }
}

class SnapshotCounter extends Counter<string> {
  present = true;
  override async get(): ReturnType<Counter<string>['get']> {
    const m = await super.get();
    return this.present ? m : { ...m, values: [] };
  }
}

function fill(metric: { reset(): void; present: boolean }, s: Snapshot | undefined, read: Read | ReadLabelled, labelled: boolean, put: (labels: Record<string, string>, v: number) => void): void {
  metric.reset();
  metric.present = false;
  if (!s) return;
  if (labelled) {
    for (const [labels, v] of (read as ReadLabelled)(s)) if (Number.isFinite(v)) put(labels, v);
    metric.present = true;
  } else {
    const v = (read as Read)(s);
    if (v !== null && v !== undefined && Number.isFinite(v)) { put({}, v); metric.present = true; }
  }
}

function num(obj: Record<string, unknown>, ...path: string[]): number | undefined {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return typeof cur === 'number' ? cur : undefined;
}

function uplinkConnected(uplink: Record<string, unknown> & { state: string }): number {
  if (typeof uplink.connected === 'boolean') return uplink.connected ? 1 : 0;
  return uplink.state === 'connected' ? 1 : 0;
}

function ratio(percent: number | null | undefined): number | null { return percent === null || percent === undefined ? null : percent / 100; }
function bool(b: boolean | null | undefined): number | null { return b === null || b === undefined ? null : b ? 1 : 0; }
