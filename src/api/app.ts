import Koa from 'koa';
import { Router } from '@koa/router';
import type { ApiDeps, ApiState } from './context.js';
import { errorHandler } from './middleware/errors.js';
import { securityHeaders } from './middleware/security-headers.js';
import { authenticate, requireScopeByMethod } from './middleware/auth.js';
import { rateLimit } from './middleware/rate-limit.js';
import { healthRouter } from './routes/health.js';
import { devicesRouter } from './routes/devices.js';
import { keysRouter } from './routes/keys.js';
import { quotaRouter } from './routes/quota.js';
import { usageRouter } from './routes/usage.js';
import { credentialsRouter } from './routes/credentials.js';
import { statsRouter } from './routes/stats.js';
import { openApiRouter } from './routes/openapi.js';

export const API_PREFIX = '/v1/iot';

/** A route the server answers, e.g. { method: 'GET', path: '/v1/iot/devices/:id' } (for the OpenAPI test). */
export interface RouteEntry { method: string; path: string }

export interface ApiApp { koa: Koa<ApiState>; routes: RouteEntry[] }

function routesOf(router: Router<ApiState>, prefix: string): RouteEntry[] {
  return router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: prefix + String(layer.path) })));
}

/**
 * The koa application: error format and security headers for everything; /healthz and /readyz open;
 * everything under /v1/iot behind an API key, its rate limit and the scope rule (GET = read, else admin).
 * `extraRouters` lets services mount routes of their own (commands, metrics, events) under the prefix.
 */
export function createApp(deps: ApiDeps, extra: { api?: Router<ApiState>[]; root?: Router<ApiState>[] } = {}): ApiApp {
  const app = new Koa<ApiState>({ proxy: false });
  app.silent = true;
  app.use(errorHandler(deps.log));
  app.use(securityHeaders());

  const root = new Router<ApiState>();
  const rootRouters = [healthRouter(deps), ...(extra.root ?? [])];
  for (const r of rootRouters) root.use(r.routes(), r.allowedMethods());
  app.use(root.routes());
  app.use(root.allowedMethods());

  const api = new Router<ApiState>({ prefix: API_PREFIX });
  api.use(authenticate(deps.apiKeys), rateLimit(deps.config.api.rate_limit_per_minute, deps.config.api.rate_limit_burst), requireScopeByMethod());
  const routers = [devicesRouter(deps), keysRouter(deps), quotaRouter(deps), usageRouter(deps), credentialsRouter(deps), statsRouter(deps), openApiRouter(), ...(extra.api ?? [])];
  for (const r of routers) api.use(r.routes(), r.allowedMethods());
  app.use(api.routes());
  app.use(api.allowedMethods());
  const routes = [...rootRouters.flatMap((r) => routesOf(r, '')), ...routers.flatMap((r) => routesOf(r, API_PREFIX))];
  return { koa: app, routes };
}
