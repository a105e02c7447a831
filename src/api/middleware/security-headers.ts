import type { Middleware } from 'koa';

/** Headers for every response. No CORS headers: the API is used from the same origin or from tools. */
export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Strict-Transport-Security', 'max-age=31536000');
    ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
    try {
      await next();
    } finally {
      // Also when a later middleware throws (a 401, a 413): the error answer needs them as much.
      if (!ctx.response.get('Content-Security-Policy')) ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
      if (!ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-store');
    }
  };
}
