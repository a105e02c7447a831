import os from 'node:os';
import { CpuMeter } from './cpu.js';
import { findCpuThermalZone, readTemperature } from './thermal.js';
import { findThrottlingSource, readThrottling, type ThrottlingSource } from './throttling.js';
import { interfaceStates } from './network.js';
import { clockSynchronized } from './clock.js';
import { readPseudoFile } from './pseudo-file.js';
import type { DiskUsage, HostSample, MemorySample, ProcessSample } from './types.js';

/**
 * Takes host health samples. Everything here is chosen to be cheap on a Pi (see each helper): no
 * child processes on Linux with a Pi kernel, a few small synchronous reads of /proc and /sys
 * (/proc/meminfo included), one statfs (done by the disk guard and handed in). `detect()` runs
 * once at start to find the thermal zone and the throttling source, so samples do not search again.
 */
export class HostSampler {
  private readonly cpu = new CpuMeter();
  private thermalFile: string | null = null;
  private throttling: ThrottlingSource = { kind: 'none' };
  private lastProcessCpu = process.cpuUsage();
  private lastProcessAt = performance.now();

  async detect(): Promise<void> {
    this.thermalFile = await findCpuThermalZone();
    this.throttling = await findThrottlingSource();
  }

  /** Where the throttling flags come from (logged at start, so a missing source is visible). */
  get throttlingSource(): ThrottlingSource['kind'] { return this.throttling.kind; }
  get thermalZone(): string | null { return this.thermalFile; }

  async sample(disk: DiskUsage | null): Promise<HostSample> {
    const before = process.cpuUsage();
    // Kernel pseudo-files are read synchronously (pseudo-file.ts); only these two wait on anything.
    const [memory, throttling, clock] = await Promise.all([memorySample(), readThrottling(this.throttling), clockSynchronized()]);
    const cpu = this.cpu.sample();
    const temperature = readTemperature(this.thermalFile);
    const network = interfaceStates();
    const sample: HostSample = {
      sampled_at: new Date().toISOString(),
      cpu,
      temperature_celsius: temperature,
      memory,
      disk,
      uptime_seconds: Math.round(os.uptime()),
      network,
      throttling,
      clock_synchronized: clock,
      process: this.processSample(),
      sample_cpu_ms: 0,
    };
    // Approximate: anything else the process did while the reads were in flight counts too.
    const spent = process.cpuUsage(before);
    sample.sample_cpu_ms = Math.round((spent.user + spent.system) / 10) / 100;
    return sample;
  }

  private processSample(): ProcessSample {
    const now = performance.now();
    const used = process.cpuUsage(this.lastProcessCpu);
    const elapsedMs = now - this.lastProcessAt;
    this.lastProcessCpu = process.cpuUsage();
    this.lastProcessAt = now;
    return {
      cpu_percent: elapsedMs > 0 ? Math.round(((used.user + used.system) / 1000 / elapsedMs) * 1000) / 10 : null,
      rss_bytes: process.memoryUsage.rss(),
      heap_used_bytes: process.memoryUsage().heapUsed,
      uptime_seconds: Math.round(process.uptime()),
    };
  }
}

/**
 * Memory from /proc/meminfo, read directly: MemAvailable (which os.freemem() lacks before Node 20.3)
 * the way si.mem() computes it. systeminformation is loaded only where there is no /proc/meminfo
 * (not Linux): loading all of it costs ~1 MB of heap for good, for one small file on a Pi.
 */
async function memorySample(): Promise<MemorySample> {
  const meminfo = readPseudoFile('/proc/meminfo');
  const m = meminfo === null ? await siMemory() : parseMeminfo(meminfo);
  return { total_bytes: m.total, available_bytes: m.available, used_percent: m.total > 0 ? Math.round((1000 * (m.total - m.available)) / m.total) / 10 : 0 };
}

async function siMemory(): Promise<{ total: number; available: number }> {
  const { default: si } = await import('systeminformation');
  return si.mem();
}

/**
 * Total and available bytes from the text of /proc/meminfo, as si.mem() reads them: MemAvailable, or
 * on kernels before 3.14 MemFree + Buffers + Cached + Slab; os.totalmem() when MemTotal is missing.
 */
export function parseMeminfo(text: string): { total: number; available: number } {
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  const total = kb('MemTotal') || os.totalmem();
  const free = kb('MemFree') || os.freemem();
  const available = kb('MemAvailable') || free + kb('Buffers') + kb('Cached') + kb('Slab');
  return { total, available };
}
