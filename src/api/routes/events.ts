import { Router } from '@koa/router';
import type { ApiDeps, ApiState } from '../context.js';
import type { EventHub } from '../events/hub.js';
import { optionalString } from '../query.js';

/**
 * GET /events: the dashboard's live stream (text/event-stream). Same auth as every route (a Bearer
 * header with a `read` key): the page reads it with fetch() and a stream reader because EventSource
 * cannot send headers, so the key never goes into a URL (nor into a log line with it).
 * `?device_id=` adds `device.rate` events for the device whose page is open.
 */
export function eventsRouter(deps: ApiDeps, hub: EventHub): Router<ApiState> {
  const router = new Router<ApiState>();
  router.get('/events', (ctx) => {
    const deviceId = optionalString(ctx.query.device_id, 'device_id');
    if (deviceId !== undefined) deps.registry.require(deviceId);
    const stream = hub.open(deviceId);
    // The stream lives until the client goes: no socket timeout, and every frame sent at once.
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.status = 200;
    ctx.type = 'text/event-stream; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    // Tells a reverse proxy in front of the gateway (nginx) not to buffer the stream.
    ctx.set('X-Accel-Buffering', 'no');
    ctx.body = stream;
  });
  return router;
}
