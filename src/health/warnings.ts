import type { CertificateStatus, HealthWarning, HostSample } from './types.js';

export interface WarningInputs {
  sample: HostSample | null;
  diskLow: boolean;
  diskFloorBytes: number;
  diskWarnPercent: number;
  certificate: CertificateStatus | null;
}

/** The warnings /stats shows and the uplink reports, derived from the latest facts only (a pure function). */
export function deriveWarnings(i: WarningInputs): HealthWarning[] {
  const out: HealthWarning[] = [];
  const disk = i.sample?.disk;
  if (i.diskLow) {
    out.push({ code: 'disk_low', message: `free space on the data filesystem is below the floor of ${mib(i.diskFloorBytes)} MiB${disk ? ` (${mib(disk.free_bytes)} MiB free)` : ''}: new telemetry is refused` });
  }
  if (disk && disk.used_percent >= i.diskWarnPercent) {
    out.push({ code: 'disk_nearly_full', message: `the data filesystem is ${disk.used_percent}% full (warning at ${i.diskWarnPercent}%), ${mib(disk.free_bytes)} MiB free` });
  }
  const t = i.sample?.throttling;
  if (t?.under_voltage) out.push({ code: 'under_voltage', message: 'under-voltage now: the power supply cannot keep up; the SD card may be corrupted by brown-outs' });
  else if (t?.under_voltage_occurred) out.push({ code: 'under_voltage_occurred', message: 'under-voltage has occurred since boot: check the power supply' });
  if (t && (t.throttled || t.arm_freq_capped || t.soft_temp_limit)) {
    const what = [t.throttled && 'throttled', t.arm_freq_capped && 'ARM frequency capped', t.soft_temp_limit && 'soft temperature limit active'].filter(Boolean).join(', ');
    out.push({ code: 'throttled', message: `the CPU is slowed down now (${what})${i.sample?.temperature_celsius != null ? ` at ${i.sample.temperature_celsius} °C` : ''}` });
  }
  if (i.sample?.clock_synchronized === false) {
    out.push({ code: 'clock_not_synchronized', message: 'the system clock is not synchronised: timestamps, daily usage rows and certificate checks may be wrong' });
  }
  const c = i.certificate;
  if (c?.state === 'expired') out.push({ code: 'certificate_expired', message: `the server certificate expired on ${c.not_after}: clients will refuse the gateway` });
  else if (c?.state === 'expiring') out.push({ code: 'certificate_expiring', message: `the server certificate expires in ${c.expires_in_days} days (${c.not_after}); replace it (certs/make-certs.sh, or delete data_dir/certs/server.* to have it remade)` });
  return out;
}

function mib(bytes: number): string { return (bytes / 1048576).toFixed(1); }
