import type { Middleware } from 'koa';
import { GatewayError, isGatewayError } from '../../errors.js';
import { HTTP_STATUS } from '../error-status.js';
import type { ApiState } from '../context.js';
import type { Logger } from '../../log.js';

/**
 * Turns every error into the API's error format `{"error": {"code", "message", "details"?}}`.
 * Unknown errors become a 500 with a generic message; the stack goes to the log, never the client.
 */
export function errorHandler(log: Logger): Middleware<ApiState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new GatewayError('not_found', `no route ${ctx.method} ${ctx.path}`);
      if (ctx.status === 405 && ctx.body === undefined) {
        ctx.body = { error: { code: 'method_not_allowed', message: `${ctx.method} is not allowed on ${ctx.path}` } };
        ctx.status = 405;
      }
      // A method no route knows (TRACE, PROPFIND…): the router answers 501; in the API's error format too.
      if (ctx.status === 501 && ctx.body === undefined) {
        ctx.body = { error: { code: 'method_not_implemented', message: `${ctx.method} is not a method of this API` } };
        ctx.status = 501;
      }
    } catch (err) {
      const e = toGatewayError(err);
      ctx.status = HTTP_STATUS[e.code];
      if (e.retryAfter !== undefined) ctx.set('Retry-After', String(e.retryAfter));
      ctx.body = { error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } };
      if (ctx.status >= 500) log.error({ event: 'api_error', method: ctx.method, path: ctx.path, err }, 'request failed');
    }
  };
}

function toGatewayError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  // Errors koa and its body parser raise carry an HTTP status and a type.
  const status = (err as { status?: number; statusCode?: number }).status ?? (err as { statusCode?: number }).statusCode;
  const type = (err as { type?: string }).type;
  if (status === 413 || type === 'entity.too.large') return new GatewayError('payload_too_large', 'request body is larger than the limit of 1 MB');
  if (type === 'entity.parse.failed') return new GatewayError('invalid_json', 'request body is not valid JSON');
  if (status === 415) return new GatewayError('unsupported_media_type', 'request body must be application/json');
  if (status === 400) return new GatewayError('bad_request', 'bad request');
  return new GatewayError('internal', 'internal error', { cause: err });
}
