/**
 * Summarises a V8 .cpuprofile (what `node --cpu-prof` writes): self time per function and per
 * module. A profile is a call tree of nodes (each with a callFrame) plus a list of samples (the leaf
 * node id of each tick) and the time before each sample (timeDeltas, µs); a sample's time belongs to
 * its leaf node alone, which is the function's self time.
 */
export interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber?: number }
export interface ProfileNode { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }
export interface CpuProfile { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[]; startTime: number; endTime: number }

export interface SelfTime { name: string; module: string; location: string; selfMs: number; percent: number }

/**
 * The module a script URL belongs to: an npm package (`aedes`, `@scope/pkg`), a file of this project
 * (`src/broker/…`), a Node built-in (`node:…`), or V8 itself.
 */
export function moduleOf(url: string): string {
  if (url === '') return '(V8 / native)';
  if (url.startsWith('node:')) return url.split('/')[0] ?? url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : rest[0] ?? url;
  }
  const src = /\/dist\/((?:src|bench|test)\/.*)$/.exec(url);
  if (src?.[1]) return `ways-edge ${src[1].replace(/\.js$/, '.ts')}`;
  return url.replace(/^file:\/\//, '');
}

/**
 * Only the samples taken between `fromUs` and `toUs`. V8 stamps profiles with its monotonic clock in
 * µs (CLOCK_MONOTONIC on Linux, the clock of process.hrtime), so a window measured by another process
 * on the machine can cut the profile. Returns undefined when the window misses the profile entirely.
 */
export function sliceProfile(profile: CpuProfile, fromUs: number, toUs: number): CpuProfile | undefined {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const keptSamples: number[] = [];
  const keptDeltas: number[] = [];
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    if (t >= fromUs && t <= toUs) { keptSamples.push(samples[i] as number); keptDeltas.push(keptSamples.length === 1 ? 0 : deltas[i] ?? 0); }
  }
  if (keptSamples.length === 0) return undefined;
  return { nodes: profile.nodes, samples: keptSamples, timeDeltas: keptDeltas, startTime: Math.max(fromUs, profile.startTime), endTime: Math.min(toUs, profile.endTime) };
}

/** V8's pseudo-frames: time that belongs to no JavaScript function. */
const V8_PSEUDO = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);

/** Self time per function (grouped by name and location), largest first. */
export function selfTimes(profile: CpuProfile): { total: number; functions: SelfTime[]; modules: Array<{ module: string; selfMs: number; percent: number }> } {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0) {
    for (let i = 0; i < samples.length; i++) {
      const id = samples[i] as number;
      // timeDeltas[i] is the time since the previous sample: attribute the interval to the sample that ends it.
      selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, deltas[i] ?? 0));
    }
  } else {
    // Without samples, hit counts at the average interval.
    const hits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
    const interval = hits > 0 ? (profile.endTime - profile.startTime) / hits : 0;
    for (const n of profile.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * interval);
  }
  const fnTotals = new Map<string, SelfTime>();
  const modTotals = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const cf = node.callFrame;
    const name = cf.functionName || '(anonymous)';
    const module = cf.url ? moduleOf(cf.url) : V8_PSEUDO.has(name) ? name : '(V8 / native)';
    const file = cf.url ? cf.url.replace(/^.*\/(node_modules|dist)\//, '').replace(/^file:\/\//, '') : '';
    const location = file ? `${file}:${cf.lineNumber + 1}` : '';
    const k = `${name}|${location}`;
    const entry = fnTotals.get(k) ?? { name, module, location, selfMs: 0, percent: 0 };
    entry.selfMs += us / 1000;
    fnTotals.set(k, entry);
    modTotals.set(module, (modTotals.get(module) ?? 0) + us / 1000);
    total += us / 1000;
  }
  const functions = [...fnTotals.values()].sort((a, b) => b.selfMs - a.selfMs);
  for (const f of functions) f.percent = total > 0 ? (100 * f.selfMs) / total : 0;
  const modules = [...modTotals.entries()].map(([module, selfMs]) => ({ module, selfMs, percent: total > 0 ? (100 * selfMs) / total : 0 })).sort((a, b) => b.selfMs - a.selfMs);
  return { total, functions, modules };
}

/** A Markdown table of the top `n` functions (idle time excluded from the percentages' meaning, but listed). */
export function topTable(profile: CpuProfile, n = 10): string {
  const { total, functions, modules } = selfTimes(profile);
  const busy = functions.filter((f) => f.name !== '(idle)');
  const busyTotal = busy.reduce((s, f) => s + f.selfMs, 0);
  const lines = [
    `Sampled ${(total / 1000).toFixed(1)} s of the main thread, ${(busyTotal / 1000).toFixed(1)} s busy. Top ${n} functions by self time (% of busy time):`,
    '',
    '| # | function | module | self ms | % busy |',
    '| ---: | --- | --- | ---: | ---: |',
    ...busy.slice(0, n).map((f, i) => `| ${i + 1} | \`${f.name}\` ${f.location ? `(${f.location})` : ''} | ${f.module} | ${f.selfMs.toFixed(0)} | ${((100 * f.selfMs) / busyTotal).toFixed(1)} |`),
    '',
    'By module (% of busy time):',
    '',
    '| module | self ms | % busy |',
    '| --- | ---: | ---: |',
    ...modules.filter((m) => m.module !== '(idle)').slice(0, 12).map((m) => `| ${m.module} | ${m.selfMs.toFixed(0)} | ${((100 * m.selfMs) / busyTotal).toFixed(1)} |`),
  ];
  return lines.join('\n');
}
