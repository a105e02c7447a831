import { Router } from '@koa/router';
import type { ApiDeps, ApiState } from '../context.js';
import { dateParam, optionalString } from '../query.js';
import { invalidField } from '../../errors.js';
import { addUsage, dayOf, emptyUsage } from '../../metering/usage.js';

const MAX_RANGE_DAYS = 366;

/** GET /usage: per-day rows (summed over devices, or for one device) and totals for the range. */
export function usageRouter(deps: ApiDeps): Router<ApiState> {
  const router = new Router<ApiState>();
  router.get('/usage', async (ctx) => {
    const tz = deps.config.gateway.timezone;
    const today = dayOf(new Date(), tz);
    const end = dateParam(ctx.query.end_date, 'end_date') ?? today;
    const start = dateParam(ctx.query.start_date, 'start_date') ?? dayOf(new Date(Date.parse(`${end}T12:00:00Z`) - 6 * 86_400_000), 'UTC');
    if (start > end) throw invalidField('start_date', 'must not be after end_date');
    const rangeDays = (Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000 + 1;
    if (rangeDays > MAX_RANGE_DAYS) throw invalidField('start_date', `the range may cover at most ${MAX_RANGE_DAYS} days`);
    const deviceId = optionalString(ctx.query.device_id, 'device_id');
    if (deviceId !== undefined) deps.registry.require(deviceId);

    // Every device's: the day totals rows; one device's: its own rows.
    const days = deviceId === undefined
      ? await deps.meter.dailyTotals(start, end)
      : (await deps.meter.usage(start, end, deviceId)).map(({ device_id: _device, ...day }) => day);
    const totals = emptyUsage();
    for (const { date: _date, ...counters } of days) addUsage(totals, counters);
    ctx.body = { start_date: start, end_date: end, device_id: deviceId ?? null, days, totals };
  });
  return router;
}
