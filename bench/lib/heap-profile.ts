import { moduleOf, type CallFrame } from './cpuprofile.js';

/**
 * Summarises a V8 sampling heap profile (`.heapprofile`, what HeapProfiler.stopSampling returns and
 * bench/preload/allocations.ts writes): bytes allocated per function and per module. A profile is a
 * call tree whose nodes carry the bytes sampled with that function at the top of the stack
 * (`selfSize`); sampled with the collected objects kept, it estimates everything allocated, garbage
 * included — which is what sets how often the young generation is collected.
 */
export interface HeapProfileNode { callFrame: CallFrame; selfSize: number; children: HeapProfileNode[] }
export interface HeapProfile { head: HeapProfileNode }

export interface AllocationSite { name: string; module: string; location: string; bytes: number; percent: number }

export function allocations(profile: HeapProfile): { totalBytes: number; functions: AllocationSite[]; modules: Array<{ module: string; bytes: number; percent: number }> } {
  const sites = new Map<string, AllocationSite>();
  const modules = new Map<string, number>();
  let totalBytes = 0;
  const pending: HeapProfileNode[] = [profile.head];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    for (const child of node.children) pending.push(child);
    if (node.selfSize <= 0) continue;
    const cf = node.callFrame;
    const name = cf.functionName || '(anonymous)';
    const module = cf.url ? moduleOf(cf.url) : '(V8 / native)';
    const file = cf.url ? cf.url.replace(/^.*\/(node_modules|dist)\//, '').replace(/^file:\/\//, '') : '';
    const location = file ? `${file}:${cf.lineNumber + 1}` : '';
    const key = `${name}|${location}`;
    const site = sites.get(key) ?? { name, module, location, bytes: 0, percent: 0 };
    site.bytes += node.selfSize;
    sites.set(key, site);
    modules.set(module, (modules.get(module) ?? 0) + node.selfSize);
    totalBytes += node.selfSize;
  }
  const share = (bytes: number): number => (totalBytes > 0 ? (bytes / totalBytes) * 100 : 0);
  const functions = [...sites.values()].map((s) => ({ ...s, percent: share(s.bytes) })).sort((a, b) => b.bytes - a.bytes);
  const byModule = [...modules].map(([module, bytes]) => ({ module, bytes, percent: share(bytes) })).sort((a, b) => b.bytes - a.bytes);
  return { totalBytes, functions, modules: byModule };
}
