import { Router } from '@koa/router';
import type { ApiDeps, ApiState } from '../context.js';
import type { ErrorCode } from '../../errors.js';

const NOT_READY: ErrorCode = 'not_ready';

/** Liveness and readiness, without authentication (for systemd, installers and load balancers). */
export function healthRouter(deps: ApiDeps): Router<ApiState> {
  const router = new Router<ApiState>();
  router.get('/healthz', (ctx) => { ctx.body = { status: 'ok' }; });
  router.get('/readyz', (ctx) => {
    const parts = deps.readiness.snapshot();
    const down = deps.readiness.notReady;
    if (!down) {
      ctx.body = { status: 'ready', parts };
      return;
    }
    // Answered here rather than thrown: a probe polling a recovering gateway must not log an api_error each time.
    ctx.status = 503;
    ctx.body = {
      status: down.reason === undefined ? 'starting' : 'unavailable',
      parts,
      error: { code: NOT_READY, message: down.reason ?? `the gateway is starting (${down.part} is not up yet)` },
    };
  });
  return router;
}
