import { Router } from '@koa/router';
import type { ApiDeps, ApiState } from '../context.js';

/** Liveness and readiness, without authentication (for systemd, installers and load balancers). */
export function healthRouter(deps: ApiDeps): Router<ApiState> {
  const router = new Router<ApiState>();
  router.get('/healthz', (ctx) => { ctx.body = { status: 'ok' }; });
  router.get('/readyz', (ctx) => {
    const ready = deps.readiness.ready;
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'starting', parts: deps.readiness.snapshot() };
  });
  return router;
}
