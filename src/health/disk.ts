import { statfs } from 'node:fs/promises';
import type { DiskUsage } from './types.js';

/**
 * Space on the filesystem holding `dir`, from one statfs(2) call — far cheaper than si.fsSize(),
 * which runs `df` and parses every mount to find the one that holds the data directory.
 */
export async function diskUsage(dir: string): Promise<DiskUsage> {
  const s = await statfs(dir);
  const total = s.blocks * s.bsize;
  const free = s.bavail * s.bsize;
  // "Used" as df counts it: blocks not free for anyone, over what non-root users can ever have.
  const used = (s.blocks - s.bfree) * s.bsize;
  const usable = used + free;
  return { path: dir, total_bytes: total, free_bytes: free, used_percent: usable > 0 ? Math.round((1000 * used) / usable) / 10 : 0 };
}
