import { Router } from '@koa/router';
import type { ApiDeps, ApiState } from '../context.js';

/** GET /stats: devices, messages, uptime, and what broker, uplink and host health report. */
export function statsRouter(deps: ApiDeps): Router<ApiState> {
  const router = new Router<ApiState>();
  router.get('/stats', (ctx) => {
    const all = deps.registry.all();
    const month = deps.meter.monthUsage();
    ctx.body = {
      gateway: { name: deps.config.gateway.name, started_at: deps.startedAt.toISOString(), uptime_seconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000) },
      devices: {
        total: all.length,
        online: deps.presence.onlineCount,
        active: all.filter((d) => d.status === 'active').length,
        disabled: all.filter((d) => d.status === 'disabled').length,
      },
      messages: { month: deps.meter.currentMonth, messages: month.messages, bytes: month.bytes, ...(deps.stats.broker?.() ?? {}) },
      uplink: deps.stats.uplink?.() ?? { state: deps.config.cloud.url ? 'not_running' : 'disabled' },
      host: deps.stats.host?.() ?? null,
      warnings: deps.stats.warnings?.() ?? [],
    };
  });
  return router;
}
