import type { Middleware } from 'koa';
import { GatewayError } from '../../errors.js';
import { hasScope, type ApiKeys, type Scope } from '../../auth/api-keys.js';
import type { ApiState } from '../context.js';

/** `Authorization: Bearer <key>` → ctx.state.principal, or 401. */
export function authenticate(apiKeys: ApiKeys): Middleware<ApiState> {
  return async (ctx, next) => {
    const header = ctx.get('Authorization');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new GatewayError('unauthorized', header ? 'the Authorization header must be "Bearer <API key>"' : 'missing API key: send "Authorization: Bearer <API key>"');
    }
    const principal = apiKeys.authenticate(match[1] as string);
    if (!principal) {
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new GatewayError('unauthorized', 'invalid or revoked API key');
    }
    ctx.state.principal = principal;
    await next();
  };
}

/** GET/HEAD need `read`; everything else needs `admin`. Keys with only `mqtt` cannot use the API. */
export function requireScopeByMethod(): Middleware<ApiState> {
  return async (ctx, next) => {
    const needed: Scope = ctx.method === 'GET' || ctx.method === 'HEAD' ? 'read' : 'admin';
    requireScope(ctx.state, needed);
    await next();
  };
}

export function requireScope(state: ApiState, needed: Scope): void {
  const principal = state.principal;
  if (!principal) throw new GatewayError('unauthorized', 'missing API key');
  if (!hasScope(principal, needed)) throw new GatewayError('forbidden', `this API key lacks the "${needed}" scope`);
}
