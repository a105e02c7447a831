import { Router } from '@koa/router';
import type { ApiDeps, ApiState } from '../context.js';
import { readJson } from '../body.js';
import { intParam, optionalString } from '../query.js';
import { parseCreate, parsePatch } from '../../devices/validate.js';
import { DEVICE_STATUSES, type DeviceStatus } from '../../devices/device.js';
import { invalidField } from '../../errors.js';
import { createdDeviceView, deviceDetailView, deviceView } from '../views.js';

export function devicesRouter(deps: ApiDeps): Router<ApiState> {
  const router = new Router<ApiState>();
  const limit = deps.config.api.body_limit_bytes;

  router.post('/devices', async (ctx) => {
    const input = parseCreate(await readJson(ctx, limit));
    const { device, credentials } = await deps.registry.create(input);
    deps.log.info({ event: 'device_created', device_id: device.device_id, by: ctx.state.principal?.name }, 'device registered');
    ctx.status = 201;
    ctx.set('Location', `/v1/iot/devices/${device.device_id}`);
    ctx.body = createdDeviceView(device, credentials);
  });

  router.get('/devices', (ctx) => {
    const q = ctx.query;
    const status = optionalString(q.status, 'status');
    if (status !== undefined && !(DEVICE_STATUSES as readonly string[]).includes(status)) throw invalidField('status', `must be one of ${DEVICE_STATUSES.join(', ')}`);
    const query = {
      limit: intParam(q.limit, 'limit', 1, 100, 50),
      offset: intParam(q.offset, 'offset', 0, Number.MAX_SAFE_INTEGER, 0),
      type: optionalString(q.type, 'type'),
      status: status as DeviceStatus | undefined,
    };
    const { devices, total } = deps.registry.list(query);
    ctx.body = { devices: devices.map((d) => deviceView(d, deps.presence)), total, limit: query.limit, offset: query.offset };
  });

  router.get('/devices/:id', (ctx) => {
    ctx.body = deviceDetailView(deps.registry.require(ctx.params.id as string), deps.presence, deps.meter);
  });

  router.patch('/devices/:id', async (ctx) => {
    const id = ctx.params.id as string;
    deps.registry.require(id);
    const device = await deps.registry.update(id, parsePatch(await readJson(ctx, limit)));
    deps.log.info({ event: 'device_updated', device_id: id, status: device.status, by: ctx.state.principal?.name }, 'device updated');
    ctx.body = deviceDetailView(device, deps.presence, deps.meter);
  });

  router.delete('/devices/:id', async (ctx) => {
    const id = ctx.params.id as string;
    await deps.registry.remove(id);
    deps.log.info({ event: 'device_deleted', device_id: id, by: ctx.state.principal?.name }, 'device deleted');
    ctx.status = 204;
  });

  return router;
}
