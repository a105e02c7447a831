import { Router } from '@koa/router';
import type { ApiDeps, ApiState } from '../context.js';
import { readJson } from '../body.js';
import { requireScope } from '../middleware/auth.js';
import { GatewayError, invalidField } from '../../errors.js';

/** API keys: admin only, also for reading (the list shows which keys can act). */
export function keysRouter(deps: ApiDeps): Router<ApiState> {
  const router = new Router<ApiState>();

  router.use('/keys', async (ctx, next) => { requireScope(ctx.state, 'admin'); await next(); });

  router.post('/keys', async (ctx) => {
    const body = await readJson(ctx, deps.config.api.body_limit_bytes);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidField('body', 'must be a JSON object');
    const { name, scopes, ...rest } = body as Record<string, unknown>;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw invalidField(unknown, 'is not a field you can set (allowed: name, scopes)');
    const { key, record } = await deps.apiKeys.create(name, scopes);
    deps.log.info({ event: 'api_key_created', name: record.name, scopes: record.scopes, by: ctx.state.principal?.name }, 'API key created');
    ctx.status = 201;
    ctx.body = { name: record.name, scopes: record.scopes, key, created_at: record.created_at };
  });

  router.get('/keys', (ctx) => {
    ctx.body = { keys: deps.apiKeys.list().map(({ name, scopes, created_at }) => ({ name, scopes, created_at })) };
  });

  router.delete('/keys/:name', async (ctx) => {
    const name = ctx.params.name as string;
    const admins = deps.apiKeys.list().filter((k) => k.scopes.includes('admin'));
    if (admins.length === 1 && admins[0]?.name === name) throw new GatewayError('conflict', 'refusing to revoke the last admin key; create another admin key first');
    await deps.apiKeys.revoke(name);
    deps.log.info({ event: 'api_key_revoked', name, by: ctx.state.principal?.name }, 'API key revoked');
    ctx.status = 204;
  });

  return router;
}
