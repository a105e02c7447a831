/**
 * Prints what a gateway allocated, from the .heapprofile files bench/preload/allocations.ts wrote:
 * total MB and the top functions and modules by bytes. `node dist/bench/alloc-summary.js FILE… [--top N]`
 */
import { readFileSync } from 'node:fs';
import { allocations, type HeapProfile } from './lib/heap-profile.js';
import { numberArg } from './lib/script-args.js';

const args = process.argv.slice(2);
const top = numberArg('top', 25);
for (const file of args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--top')) {
  const summary = allocations(JSON.parse(readFileSync(file, 'utf8')) as HeapProfile);
  process.stdout.write(`${file}: ${(summary.totalBytes / 1e6).toFixed(1)} MB allocated (sampled)\n\nby module:\n`);
  for (const m of summary.modules.slice(0, top)) process.stdout.write(`  ${m.percent.toFixed(1).padStart(5)}%  ${(m.bytes / 1e6).toFixed(1).padStart(8)} MB  ${m.module}\n`);
  process.stdout.write('\nby function:\n');
  for (const f of summary.functions.slice(0, top)) process.stdout.write(`  ${f.percent.toFixed(1).padStart(5)}%  ${(f.bytes / 1e6).toFixed(1).padStart(8)} MB  ${f.name}  ${f.location}\n`);
  process.stdout.write('\n');
}
