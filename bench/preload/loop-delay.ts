/**
 * Preload for a gateway under the bench: once a second, prints the event loop's longest delay, its
 * p99 and the loop's utilisation over that second (`loop_delay t_ms=… max_ms=… p99_ms=… elu=…`).
 * Combined with --trace-gc, it tells a stall of the loop that is a GC pause from one that is not:
 *
 *   BENCH_GATEWAY_NODE_ARGS="--import=$PWD/dist/bench/preload/loop-delay.js --trace-gc" \
 *     BENCH_GATEWAY_STDOUT=/tmp/loop.txt node dist/bench/run.js --only latency --reps 1 --no-aedes --no-profile --no-docs
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const RESOLUTION_MS = 1;
const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
histogram.enable();
let last = performance.eventLoopUtilization();
setInterval(() => {
  const now = performance.eventLoopUtilization();
  const elu = performance.eventLoopUtilization(now, last);
  last = now;
  // t_ms is on the clock --trace-gc prints (ms since the process started).
  process.stdout.write(`loop_delay t_ms=${Math.round(performance.now())} max_ms=${(histogram.max / 1e6).toFixed(1)} p99_ms=${(histogram.percentile(99) / 1e6).toFixed(1)} elu=${elu.utilization.toFixed(2)}\n`);
  histogram.reset();
}, 1000).unref();
