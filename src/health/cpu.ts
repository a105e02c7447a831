import os from 'node:os';
import type { CpuSample } from './types.js';
import { readPseudoFile } from './pseudo-file.js';

interface CpuTimes { busy: number; iowait: number; total: number }

/**
 * CPU load without si.currentLoad (which needs two samples spaced apart and reads per-core files):
 * load averages from os.loadavg(), and the busy share since the previous sample from the first line of
 * /proc/stat — one small read. Off Linux, os.cpus() gives the same totals (without iowait).
 */
export class CpuMeter {
  private previous: CpuTimes | undefined;

  sample(): CpuSample {
    const [l1, l5, l15] = os.loadavg() as [number, number, number];
    const times = readTimes();
    let usage: number | null = null;
    let iowait: number | null = null;
    if (times && this.previous && times.total > this.previous.total) {
      const total = times.total - this.previous.total;
      usage = round1((100 * (times.busy - this.previous.busy)) / total);
      iowait = times.iowait < 0 ? null : round1((100 * (times.iowait - this.previous.iowait)) / total);
    }
    if (times) this.previous = times;
    return { load_1m: round2(l1), load_5m: round2(l5), load_15m: round2(l15), cores: os.availableParallelism(), usage_percent: usage, iowait_percent: iowait };
  }
}

function readTimes(): CpuTimes | undefined {
  const text = process.platform === 'linux' ? readPseudoFile('/proc/stat') : null;
  if (text !== null) return parseProcStat(text);
  const cpus = os.cpus();
  if (cpus.length === 0) return undefined;
  let busy = 0, total = 0;
  for (const { times } of cpus) {
    busy += times.user + times.nice + times.sys + times.irq;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  return { busy, total, iowait: -1 };
}

/** First line of /proc/stat: `cpu user nice system idle iowait irq softirq steal …` in clock ticks. */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.slice(0, text.indexOf('\n'));
  if (!line.startsWith('cpu ')) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, iowait, total: busy + idle + iowait };
}

function round1(x: number): number { return Math.round(x * 10) / 10; }
function round2(x: number): number { return Math.round(x * 100) / 100; }
