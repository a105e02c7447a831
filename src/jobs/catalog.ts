import type { GatewayConfig } from '../config/schema.js';
import type { HealthMonitor } from '../health/monitor.js';
import type { Logger } from '../log.js';
import type { Meter } from '../metering/meter.js';
import type { GroupCommit } from '../store/group-commit.js';
import type { JsonSublevel } from '../store/store.js';
import type { Compaction } from './compaction.js';
import type { QuotaPeriod } from './quota-period.js';
import type { Retention } from './retention.js';
import type { JobDefinition } from './scheduler.js';
import { usageRollup } from './usage-rollup.js';

/** The gateway's periodic jobs, each on its `jobs.*` schedule. */
export function gatewayJobs(p: {
  config: GatewayConfig; log: Logger; health: HealthMonitor; meter: Meter; commits: GroupCommit; meta: JsonSublevel<unknown>;
  quotaPeriod: QuotaPeriod; retention: Retention; compaction: Compaction; now: () => Date;
}): JobDefinition[] {
  const j = p.config.jobs;
  return [
    { name: 'health_sample', schedule: j.health_sample, run: async () => ({ sample_cpu_ms: (await p.health.sample()).sample_cpu_ms }) },
    {
      name: 'usage_rollup', schedule: j.usage_rollup,
      run: () => usageRollup({ meter: p.meter, commits: p.commits, meta: p.meta, timeZone: p.config.gateway.timezone, log: p.log, now: p.now }),
    },
    { name: 'quota_reset', schedule: j.quota_reset, runAtStart: true, run: () => p.quotaPeriod.reconcile() },
    { name: 'retention', schedule: j.retention, run: () => p.retention.run() },
    { name: 'cert_check', schedule: j.cert_check, run: async () => p.health.checkCertificate() },
    { name: 'compaction', schedule: j.compaction, run: () => p.compaction.runIfWorthwhile() },
  ];
}
