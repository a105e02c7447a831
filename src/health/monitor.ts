import type { Service } from '../lifecycle.js';
import type { Logger } from '../log.js';
import { TypedEmitter } from '../typed-emitter.js';
import type { Admission } from './admission.js';
import { certificateStatus } from './certificate.js';
import { DiskGuard } from './disk-guard.js';
import { HostSampler } from './sampler.js';
import { healthSummary, type HealthSummary } from './summary.js';
import type { CertificateStatus, DiskUsage, HealthWarning, HostSample } from './types.js';
import { deriveWarnings } from './warnings.js';

export type HealthEvents = {
  sample: [sample: HostSample];
  disk_low: [usage: DiskUsage];
  disk_ok: [usage: DiskUsage];
  /** The set of warning codes changed (for /events and the uplink's status). */
  warnings: [warnings: HealthWarning[]];
};

export interface HealthDeps {
  log: Logger;
  dataDir: string;
  name: string;
  version: string;
  startedAt: Date;
  settings: { disk_min_free_bytes: number; disk_warn_percent: number; cert_warn_days: number };
  admission: Admission;
  /** When the server certificate expires; undefined until TLS material is loaded. */
  certificateNotAfter: () => Date | undefined;
  devices: () => { online: number; total: number };
  now?: () => number;
}

/**
 * Host health: the latest sample, the disk guard, the certificate's expiry and the warnings derived
 * from them. Sampling itself is driven by the `health_sample` job (src/jobs); the monitor takes one
 * sample at start so /stats has a host section from the first request.
 */
export class HealthMonitor implements Service {
  readonly name = 'health';
  readonly events = new TypedEmitter<HealthEvents>();
  private readonly sampler = new HostSampler();
  private readonly disk: DiskGuard;
  private latest: HostSample | null = null;
  private cert: CertificateStatus | null = null;
  private current: HealthWarning[] = [];
  private inFlight: Promise<HostSample> | undefined;
  private readonly unsubscribe: Array<() => void> = [];
  /** Samples taken and the CPU they cost, for /metrics (the average cost per sample). */
  readonly counters = { samples: 0, sample_cpu_ms: 0 };

  constructor(private readonly deps: HealthDeps) {
    this.disk = new DiskGuard({ dir: deps.dataDir, floorBytes: deps.settings.disk_min_free_bytes, admission: deps.admission, log: deps.log });
  }

  private now(): number { return this.deps.now ? this.deps.now() : Date.now(); }

  async start(): Promise<void> {
    this.unsubscribe.push(
      this.disk.events.on('low', (u) => { this.refreshWarnings(); this.events.emit('disk_low', u); }),
      this.disk.events.on('ok', (u) => { this.refreshWarnings(); this.events.emit('disk_ok', u); }),
    );
    await this.sampler.detect();
    this.deps.log.info({ event: 'health_sources', thermal_zone: this.sampler.thermalZone, throttling: this.sampler.throttlingSource }, 'host health sources');
    await this.disk.start();
    this.checkCertificate();
    await this.sample();
  }

  async stop(): Promise<void> {
    this.disk.stop();
    for (const off of this.unsubscribe.splice(0)) off();
    await this.inFlight?.catch(() => undefined);
  }

  /** Takes a sample (a call while one is running shares it). */
  sample(): Promise<HostSample> {
    this.inFlight ??= (async () => {
      try {
        const disk = await this.disk.check();
        const sample = await this.sampler.sample(disk);
        this.latest = sample;
        this.counters.samples += 1;
        this.counters.sample_cpu_ms += sample.sample_cpu_ms;
        this.refreshWarnings();
        this.events.emit('sample', sample);
        return sample;
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }

  /** Re-reads the certificate's expiry; logs a warning every time it is inside the warning window. */
  checkCertificate(): CertificateStatus | null {
    const notAfter = this.deps.certificateNotAfter();
    if (!notAfter) return null;
    this.cert = certificateStatus(notAfter, this.deps.settings.cert_warn_days, this.now());
    if (this.cert.state !== 'ok') {
      this.deps.log.warn({ event: 'certificate_' + this.cert.state, not_after: this.cert.not_after, expires_in_days: this.cert.expires_in_days },
        this.cert.state === 'expired' ? 'the server certificate has expired' : `the server certificate expires in ${this.cert.expires_in_days} days`);
    }
    this.refreshWarnings();
    return this.cert;
  }

  /** The latest sample, with the disk figures of the guard's latest check (it checks more often near the floor). */
  get host(): HostSample | null {
    const disk = this.disk.usage;
    return this.latest && disk ? { ...this.latest, disk } : this.latest;
  }
  get certificate(): CertificateStatus | null { return this.cert; }
  get warnings(): HealthWarning[] { return this.current; }
  /** Free space is below health.disk_min_free_bytes (new telemetry is refused). */
  get diskLow(): boolean { return this.disk.low; }

  /** The status document the uplink publishes upstream. */
  summary(): HealthSummary {
    const devices = this.deps.devices();
    return healthSummary({
      name: this.deps.name, version: this.deps.version, startedAt: this.deps.startedAt, now: this.now(),
      sample: this.host, devicesOnline: devices.online, devicesTotal: devices.total,
      accepting: this.deps.admission.accepting(), warnings: this.current,
    });
  }

  /** Recomputes warnings; logs each one that appears or clears (not every sample, so logs stay quiet). */
  private refreshWarnings(): void {
    const next = deriveWarnings({
      sample: this.host,
      diskLow: this.disk.low,
      diskFloorBytes: this.deps.settings.disk_min_free_bytes,
      diskWarnPercent: this.deps.settings.disk_warn_percent,
      certificate: this.cert,
    });
    const before = new Set(this.current.map((w) => w.code));
    const after = new Set(next.map((w) => w.code));
    this.current = next;
    let changed = false;
    for (const w of next) {
      if (!before.has(w.code)) { changed = true; this.deps.log.warn({ event: 'warning_raised', code: w.code }, w.message); }
    }
    for (const code of before) {
      if (!after.has(code)) { changed = true; this.deps.log.info({ event: 'warning_cleared', code }, `warning cleared: ${code}`); }
    }
    if (changed) this.events.emit('warnings', next);
  }
}
