import t from 'tap';
import { deriveWarnings, type WarningInputs } from '../../src/health/warnings.js';
import { decodeThrottled } from '../../src/health/throttling.js';
import { certificateStatus } from '../../src/health/certificate.js';
import type { HostSample } from '../../src/health/types.js';

const MiB = 1024 * 1024;
const sample = (over: Partial<HostSample> = {}): HostSample => ({
  sampled_at: '2031-01-01T00:00:00.000Z',
  cpu: { load_1m: 0.1, load_5m: 0.1, load_15m: 0.1, cores: 4, usage_percent: 3, iowait_percent: 0 },
  temperature_celsius: 51.2,
  memory: { total_bytes: 4e9, available_bytes: 3e9, used_percent: 25 },
  disk: { path: '/var/lib/ways-edge', total_bytes: 32e9, free_bytes: 20e9, used_percent: 37.5 },
  uptime_seconds: 1000,
  network: { up: ['eth0'], down: [] },
  throttling: decodeThrottled(0),
  clock_synchronized: true,
  process: { cpu_percent: 0.1, rss_bytes: 5e7, heap_used_bytes: 2e7, uptime_seconds: 100 },
  sample_cpu_ms: 1,
  ...over,
});
const base: WarningInputs = { sample: sample(), diskLow: false, diskFloorBytes: 100 * MiB, diskWarnPercent: 90, certificate: null };
const codes = (i: Partial<WarningInputs>): string[] => deriveWarnings({ ...base, ...i }).map((w) => w.code);

t.test('warnings follow the facts, one code per condition', async (t) => {
  const now = Date.parse('2031-01-01T00:00:00Z');
  const table: Array<[string, Partial<WarningInputs>, string[]]> = [
    ['a healthy host', {}, []],
    ['no sample yet', { sample: null }, []],
    ['disk above the warning percentage', { sample: sample({ disk: { path: '/d', total_bytes: 100, free_bytes: 5, used_percent: 95 } }) }, ['disk_nearly_full']],
    ['disk below the floor', { diskLow: true }, ['disk_low']],
    ['under-voltage now (and so since boot)', { sample: sample({ throttling: decodeThrottled(0x10001) }) }, ['under_voltage']],
    ['under-voltage since boot only', { sample: sample({ throttling: decodeThrottled(0x10000) }) }, ['under_voltage_occurred']],
    ['throttled now', { sample: sample({ throttling: decodeThrottled(0x40004) }) }, ['throttled']],
    ['soft temperature limit', { sample: sample({ throttling: decodeThrottled(0x8) }) }, ['throttled']],
    ['throttled in the past only', { sample: sample({ throttling: decodeThrottled(0xe0000) }) }, []],
    ['not a Pi', { sample: sample({ throttling: null }) }, []],
    ['clock not synchronised', { sample: sample({ clock_synchronized: false }) }, ['clock_not_synchronized']],
    ['clock unknown', { sample: sample({ clock_synchronized: null }) }, []],
    ['certificate far from expiry', { certificate: certificateStatus(new Date(now + 90 * 86_400_000), 30, now) }, []],
    ['certificate inside the window', { certificate: certificateStatus(new Date(now + 29 * 86_400_000), 30, now) }, ['certificate_expiring']],
    ['certificate expired', { certificate: certificateStatus(new Date(now - 1000), 30, now) }, ['certificate_expired']],
  ];
  for (const [what, inputs, expected] of table) t.same(codes(inputs), expected, what);
  const msg = deriveWarnings({ ...base, sample: sample({ throttling: decodeThrottled(0x6) }) })[0]?.message ?? '';
  t.match(msg, /throttled, ARM frequency capped/);
  t.match(msg, /51\.2 °C/);
});
