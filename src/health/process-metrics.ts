import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * prom-client's process metrics (CPU seconds, RSS, heap, event-loop lag, GC) describe the process, not
 * a gateway, and collectDefaultMetrics installs an event-loop-delay monitor and a GC observer that
 * prom-client offers no way to remove. So there is one such registry per process, made on the first
 * scrape: a gateway that is never scraped pays nothing for it, and two gateways in one test process
 * do not install two monitors.
 */
let registry: Registry | undefined;

/**
 * The event-loop-delay monitor wakes the loop at this interval; prom-client's default of 10 ms would
 * be 100 wake-ups a second on an otherwise idle Pi. 100 ms still catches any lag worth alerting on.
 */
const EVENT_LOOP_RESOLUTION_MS = 100;

export function processMetrics(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS });
  }
  return registry;
}
