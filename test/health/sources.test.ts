import t, { type Test } from 'tap';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeThrottled, findThrottlingSource, parseThrottled, readThrottling } from '../../src/health/throttling.js';
import { findCpuThermalZone, readTemperature } from '../../src/health/thermal.js';
import { clockSynchronized } from '../../src/health/clock.js';
import { interfaceStates } from '../../src/health/network.js';
import { parseProcStat } from '../../src/health/cpu.js';
import { diskUsage } from '../../src/health/disk.js';
import { parseMeminfo } from '../../src/health/sampler.js';
import { tempDir, removeDir } from '../helpers/gateway.js';

function scratch(t: Test): string {
  const dir = tempDir('ways-edge-health-');
  t.teardown(() => removeDir(dir));
  return dir;
}

t.test('get_throttled bits decode as the Raspberry Pi documentation says', async (t) => {
  const table: Array<[number, Partial<ReturnType<typeof decodeThrottled>>]> = [
    [0x0, { raw: '0x0', under_voltage: false, throttled: false, under_voltage_occurred: false }],
    [0x1, { under_voltage: true, under_voltage_occurred: false }],
    [0x2, { arm_freq_capped: true }],
    [0x4, { throttled: true }],
    [0x8, { soft_temp_limit: true }],
    [0x10000, { under_voltage: false, under_voltage_occurred: true }],
    [0x20000, { arm_freq_capped_occurred: true }],
    [0x40000, { throttled_occurred: true }],
    [0x80000, { soft_temp_limit_occurred: true }],
    [0x50005, { raw: '0x50005', under_voltage: true, throttled: true, under_voltage_occurred: true, throttled_occurred: true, arm_freq_capped: false, soft_temp_limit: false }],
  ];
  for (const [value, expected] of table) t.match(decodeThrottled(value), expected, `0x${value.toString(16)}`);
  t.equal(parseThrottled('50005\n'), 0x50005, 'sysfs prints hex without a prefix');
  t.equal(parseThrottled('throttled=0x50005\n'), 0x50005, 'vcgencmd prints throttled=0x…');
  t.equal(parseThrottled('throttled=0x0'), 0);
  t.equal(parseThrottled('error: mailbox failed'), undefined, 'an error message is not a value');
  t.equal(parseThrottled('  '), undefined);
});

t.test('throttling comes from sysfs, else vcgencmd on the PATH, else it is null', async (t) => {
  const dir = scratch(t);
  const sysfs = path.join(dir, 'get_throttled');
  writeFileSync(sysfs, '50000\n');
  const fromSysfs = await findThrottlingSource(sysfs, '');
  t.same(fromSysfs, { kind: 'sysfs', file: sysfs });
  t.match(await readThrottling(fromSysfs), { raw: '0x50000', under_voltage: false, under_voltage_occurred: true, throttled_occurred: true });

  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'vcgencmd'), '#!/bin/sh\n[ "$1" = get_throttled ] && echo "throttled=0x4" || exit 1\n');
  chmodSync(path.join(bin, 'vcgencmd'), 0o755);
  const fromCmd = await findThrottlingSource(path.join(dir, 'absent'), bin);
  t.equal(fromCmd.kind, 'vcgencmd');
  t.match(await readThrottling(fromCmd), { raw: '0x4', throttled: true, under_voltage: false });

  const none = await findThrottlingSource(path.join(dir, 'absent'), path.join(dir, 'empty-path'));
  t.same(none, { kind: 'none' });
  t.equal(await readThrottling(none), null, 'no source: null, not "all clear"');
});

t.test('the CPU thermal zone is found by type and read in degrees Celsius', async (t) => {
  const root = scratch(t);
  for (const [zone, type, temp] of [['thermal_zone0', 'acpitz', '27800'], ['thermal_zone1', 'cpu-thermal', '48312']] as const) {
    mkdirSync(path.join(root, zone));
    writeFileSync(path.join(root, zone, 'type'), `${type}\n`);
    writeFileSync(path.join(root, zone, 'temp'), `${temp}\n`);
  }
  const file = await findCpuThermalZone(root);
  t.equal(file, path.join(root, 'thermal_zone1', 'temp'));
  t.equal(await readTemperature(file), 48.3);
  t.equal(await findCpuThermalZone(path.join(root, 'absent')), null);
  t.equal(await readTemperature(null), null);
});

t.test('clock synchronisation is told only where it can be', async (t) => {
  const dir = scratch(t);
  const timesync = path.join(dir, 'timesync');
  const flag = path.join(timesync, 'synchronized');
  const now = Date.UTC(2026, 5, 1);
  t.equal(await clockSynchronized(now, timesync, flag), null, 'no systemd-timesyncd: unknown');
  mkdirSync(timesync);
  t.equal(await clockSynchronized(now, timesync, flag), false, 'timesyncd runs but has not synchronised');
  writeFileSync(flag, '');
  t.equal(await clockSynchronized(now, timesync, flag), true);
  t.equal(await clockSynchronized(Date.UTC(1970, 0, 2), timesync, flag), false, 'a clock in 1970 is not synchronised, whatever the flag says');
});

t.test('interfaces up and down from operstate; CPU times from /proc/stat; disk from statfs', async (t) => {
  const root = scratch(t);
  for (const [name, state] of [['lo', 'unknown'], ['eth0', 'up'], ['wlan0', 'down'], ['tun0', 'unknown']] as const) {
    mkdirSync(path.join(root, name));
    writeFileSync(path.join(root, name, 'operstate'), `${state}\n`);
  }
  t.same(await interfaceStates(root), { up: ['eth0', 'tun0'], down: ['wlan0'] });

  t.same(parseProcStat('cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 1 2 3\n'), { busy: 160, iowait: 40, total: 1000 });
  t.equal(parseProcStat('intr 1 2 3\n'), undefined);

  const d = await diskUsage(root);
  t.ok(d.total_bytes > 0 && d.free_bytes > 0 && d.free_bytes <= d.total_bytes);
  t.ok(d.used_percent >= 0 && d.used_percent <= 100);
});

t.test('memory comes from /proc/meminfo as si.mem() reads it: MemAvailable, or free + caches on old kernels', async (t) => {
  const meminfo = 'MemTotal:        3884096 kB\nMemFree:          512000 kB\nMemAvailable:    2048000 kB\nBuffers:           10000 kB\nCached:           300000 kB\nSlab:              40000 kB\n';
  t.same(parseMeminfo(meminfo), { total: 3884096 * 1024, available: 2048000 * 1024 });
  const before314 = meminfo.replace(/^MemAvailable:.*\n/m, '');
  t.same(parseMeminfo(before314), { total: 3884096 * 1024, available: (512000 + 10000 + 300000 + 40000) * 1024 });
  if (!existsSync('/proc/meminfo')) return;
  // The same figures as systeminformation, which the sampler used before (it is no longer loaded on Linux).
  const { default: si } = await import('systeminformation');
  const [ours, theirs] = [parseMeminfo(readFileSync('/proc/meminfo', 'latin1')), await si.mem()];
  t.equal(ours.total, theirs.total);
  t.ok(Math.abs(ours.available - theirs.available) < 64 * 2 ** 20, 'available within 64 MB (the two reads are moments apart)');
});
