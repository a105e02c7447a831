/**
 * Preload for a gateway under the bench: samples its heap allocations for its whole life and writes
 * `<BENCH_ALLOC_DIR>/gateway-<pid>.heapprofile` when it exits. Objects the GC collected stay in the
 * profile, so it shows what is allocated, not only what is alive at the end. Usage (docs/BENCHMARKS.md):
 *
 *   BENCH_GATEWAY_NODE_ARGS="--import=$PWD/dist/bench/preload/allocations.js" \
 *     node dist/bench/run.js --only latency --reps 1 --no-aedes --no-profile --no-docs \
 *     --gateway-env BENCH_ALLOC_DIR=/tmp/alloc
 *   node dist/bench/alloc-summary.js /tmp/alloc/gateway-*.heapprofile
 *
 * With BENCH_ALLOC_PROMOTED=1 the objects that died young (in a scavenge) are left out: what remains
 * is what outlived the young generation, the garbage that drives the mark-compacts.
 *
 * Sampling costs CPU: figures of a run with it are not comparable with a run without.
 */
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.env.BENCH_ALLOC_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', {
    samplingInterval: Number(process.env.BENCH_ALLOC_INTERVAL ?? 4096),
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: process.env.BENCH_ALLOC_PROMOTED !== '1',
  });
  // An in-process inspector session answers synchronously, so this works in an 'exit' listener.
  process.on('exit', () => {
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `gateway-${process.pid}.heapprofile`), JSON.stringify(result.profile));
    });
  });
}
