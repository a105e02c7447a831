import type { Middleware } from 'koa';
import { GatewayError } from '../../errors.js';
import { TokenBucket } from '../../auth/token-bucket.js';
import type { ApiState } from '../context.js';

/**
 * Per-key limit of the seed: `perMinute` requests a minute sustained plus a burst of `burst`.
 * A token bucket of capacity perMinute + burst refilling at perMinute/60 per second: a fresh key can
 * send 1200 requests at once, then 1000 a minute. Answers carry X-RateLimit-* headers; a refused
 * request gets 429 with Retry-After.
 */
export function rateLimit(perMinute: number, burst: number): Middleware<ApiState> {
  const buckets = new Map<string, TokenBucket>();
  const capacity = perMinute + burst;
  return async (ctx, next) => {
    const name = ctx.state.principal?.name;
    if (perMinute === 0 || name === undefined) return next();
    let bucket = buckets.get(name);
    if (!bucket) { bucket = new TokenBucket(perMinute / 60, capacity); buckets.set(name, bucket); }
    const allowed = bucket.take();
    ctx.set('X-RateLimit-Limit', String(perMinute));
    ctx.set('X-RateLimit-Burst', String(burst));
    ctx.set('X-RateLimit-Remaining', String(bucket.remaining()));
    ctx.set('X-RateLimit-Reset', String(Math.ceil(bucket.fullInMs() / 1000)));
    if (!allowed) {
      const retryAfter = Math.max(1, Math.ceil(bucket.waitMs() / 1000));
      throw new GatewayError('rate_limited', `rate limit of ${perMinute} requests per minute (burst ${burst}) exceeded for this API key`, { retryAfter });
    }
    await next();
  };
}
