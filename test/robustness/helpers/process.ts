import { readFileSync } from 'node:fs';

/** Resident set size of a process in bytes (Linux /proc), or 0 when it is gone. */
export function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const MiB = 1024 * 1024;
export const mb = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MB`;

/** Samples a value every `everyMs` until stopped; reports the maximum seen. */
export class PeakSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(sample: () => number, everyMs = 100) {
    this.peak = sample();
    this.timer = setInterval(() => { this.peak = Math.max(this.peak, sample()); }, everyMs);
  }

  stop(): number {
    clearInterval(this.timer);
    return this.peak;
  }
}
