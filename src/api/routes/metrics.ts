import { Router } from '@koa/router';
import type { Middleware } from 'koa';
import type { ApiDeps, ApiState } from '../context.js';
import { authenticate, requireScope } from '../middleware/auth.js';
import { rateLimit } from '../middleware/rate-limit.js';
import { digestsEqual, sha256Hex } from '../../auth/secrets.js';
import type { GatewayMetrics } from '../../health/prometheus.js';

/**
 * GET /metrics (at the root, where Prometheus looks): the Prometheus text format. Readable with an API
 * key that has the `read` scope (rate-limited like /v1/iot, with a bucket of its own), or with
 * health.metrics_token — a credential that can read metrics and nothing else, so a Prometheus server
 * does not need an API key; its scrapes are not rate-limited. `metrics` gives the metrics on demand
 * (the gateway makes them on the first scrape).
 */
export function metricsRouter(deps: ApiDeps, metrics: () => Promise<GatewayMetrics>): Router<ApiState> {
  const router = new Router<ApiState>();
  const tokenDigest = deps.config.health.metrics_token ? sha256Hex(deps.config.health.metrics_token) : undefined;
  const byKey = authenticate(deps.apiKeys);
  const limit = rateLimit(deps.config.api.rate_limit_per_minute, deps.config.api.rate_limit_burst);

  const guard: Middleware<ApiState> = async (ctx, next) => {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('Authorization'))?.[1];
    // Digests of equal length, compared in constant time: the token's length and content stay secret.
    if (tokenDigest && presented !== undefined && digestsEqual(sha256Hex(presented), tokenDigest)) return next();
    await byKey(ctx, () => limit(ctx, async () => {
      requireScope(ctx.state, 'read');
      await next();
    }));
  };

  router.get('/metrics', guard, async (ctx) => {
    const { contentType, body } = await (await metrics()).render();
    ctx.type = contentType;
    ctx.body = body;
  });
  return router;
}
