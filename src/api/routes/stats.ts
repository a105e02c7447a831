import { Router } from '@koa/router';
import type { ApiDeps, ApiState } from '../context.js';
import { platformStats } from '../../health/platform-stats.js';

/** GET /stats: devices, messages and rates, uptime, uplink, host health, admission and warnings. */
export function statsRouter(deps: ApiDeps): Router<ApiState> {
  const router = new Router<ApiState>();
  router.get('/stats', (ctx) => { ctx.body = platformStats(deps); });
  return router;
}
