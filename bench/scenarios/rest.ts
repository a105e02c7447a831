/**
 * Scenario 5: the REST API under a closed-loop load — `GET /v1/iot/devices?limit=50`,
 * `GET /v1/iot/devices/{id}` (the bench's devices in turn), one device's usage of the last 30 days
 * and every device's of the last 7 (the seed's example), from 16 concurrent HTTPS connections
 * spread over two generator processes (undici). The per-key rate limit is off in the bench
 * gateway (WAYS_EDGE_API_RATE_LIMIT_PER_MINUTE=0), or it would cap this at 1000/min.
 */
import type { Ctx } from '../lib/context.js';
import type { GatewayProcess } from '../lib/gateway.js';
import { cpuSeconds, cpuSecondsOf } from '../lib/proc.js';
import { fmtNumber } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { WorkerPool } from '../lib/workers.js';
import { USAGE_DAYS, daysAgo } from '../lib/fill.js';

const SC = '5. REST, 16 connections';
const PROCS = 2;

export async function restLoad(ctx: Ctx, o: { gw: GatewayProcess; ids: string[]; registered: number; caPem: string }): Promise<void> {
  const s = ctx.settings;
  const pool = new WorkerPool('rest', PROCS);
  try {
    await pool.ready();
    const origin = `https://127.0.0.1:${o.gw.apiPort}`;
    const key = o.gw.adminKey();
    const perProc = Math.ceil(s.restConnections / PROCS);
    const cases = [
      { name: 'GET /v1/iot/devices?limit=50', paths: ['/v1/iot/devices?limit=50'] },
      { name: 'GET /v1/iot/devices/{id}', paths: o.ids.map((id) => `/v1/iot/devices/${id}`) },
      { name: `GET /v1/iot/usage?device_id={id}, ${USAGE_DAYS} days`, paths: o.ids.map((id) => `/v1/iot/usage?device_id=${id}&start_date=${daysAgo(USAGE_DAYS)}&end_date=${daysAgo(0)}`) },
      { name: `GET /v1/iot/usage, 7 days, ${o.registered.toLocaleString('en-US')} devices`, paths: [`/v1/iot/usage?start_date=${daysAgo(7)}&end_date=${daysAgo(1)}`] },
    ];
    for (const c of cases) {
      // Warm-up (JIT, TLS sessions), then the measured run.
      await pool.all((w) => w.call({ op: 'rest', origin, ca: o.caPem, key, paths: c.paths, connections: perProc, durationMs: 1_000 }));
      const t0 = performance.now();
      const cpu0 = cpuSeconds(o.gw.pid);
      const gen0 = cpuSecondsOf(pool.pids);
      const runs = await pool.all((w) => w.call({ op: 'rest', origin, ca: o.caPem, key, paths: c.paths, connections: perProc, durationMs: s.restMs }));
      const seconds = (performance.now() - t0) / 1000;
      const gwCpu = (100 * (cpuSeconds(o.gw.pid) - cpu0)) / seconds;
      const genCpu = cpuSecondsOf(pool.pids).map((v, i) => (100 * (v - (gen0[i] ?? 0))) / seconds);
      const requests = runs.reduce((sum, r) => sum + r.requests, 0);
      const errors = runs.reduce((sum, r) => sum + r.errors, 0);
      const lat = summarize(runs.flatMap((r) => r.latenciesMs));
      const statuses: Record<string, number> = {};
      for (const r of runs) for (const [k, v] of Object.entries(r.statusCounts)) statuses[k] = (statuses[k] ?? 0) + v;
      const rps = requests / seconds;
      ctx.log(`  ${c.name}: ${fmtNumber(rps)} req/s, p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms, statuses ${JSON.stringify(statuses)}; gateway CPU ${gwCpu.toFixed(0)}%, generators ${genCpu.map((g) => g.toFixed(0)).join('+')}%`);
      if (errors > 0) ctx.report.note(`REST ${c.name}: ${errors} of ${requests} requests failed or were not 200 (${JSON.stringify(statuses)}).`);
      if (Math.max(...genCpu) >= 90) ctx.report.note(`REST ${c.name}: a generator process ran at ${Math.max(...genCpu).toFixed(0)}% of a core; requests/s is a lower bound.`);
      ctx.report.add({ scenario: SC, metric: `${c.name} throughput`, unit: 'req/s', gateway: rps });
      ctx.report.add({ scenario: SC, metric: `${c.name} p99`, unit: 'ms', gateway: lat.p99 });
      ctx.report.add({ scenario: SC, metric: `${c.name} gateway CPU`, unit: '% core', gateway: gwCpu });
    }
  } finally {
    await pool.stop();
  }
}
