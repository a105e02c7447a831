import { Router } from '@koa/router';
import type { ApiDeps, ApiState } from '../context.js';
import { quotaView } from '../../metering/quota.js';

export function quotaRouter(deps: ApiDeps): Router<ApiState> {
  const router = new Router<ApiState>();
  router.get('/quota', (ctx) => { ctx.body = quotaView(deps.config.quota, deps.registry.count, deps.meter.monthUsage()); });
  return router;
}
