import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import type { UsageCounters } from '../../src/metering/usage.js';

t.test('the daily roll-up flushes and reports the day that just ended', async (t) => {
  let clock = Date.parse('2031-06-09T12:00:00Z');
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_GATEWAY_TIMEZONE: 'UTC' }, now: () => new Date(clock) });
  const a = await registerDevice(api);
  const b = await registerDevice(api);
  const meter = gw.gateway.meter;
  meter.count(a.device_id, 'in', 100);
  meter.count(a.device_id, 'in', 100);
  meter.count(b.device_id, 'in', 50);
  await gw.gateway.commits.flush();
  // An outbound count rides along with the next commit; the roll-up must not leave it behind.
  meter.count(b.device_id, 'out', 70);

  clock = Date.parse('2031-06-10T00:05:00Z');
  const ran = new Promise<unknown>((resolve) => { const off = gw.gateway.jobs.events.on('ran', (name, result) => { if (name === 'usage_rollup') { off(); resolve(result); } }); });
  await gw.gateway.jobs.runNow('usage_rollup');
  t.same(await ran, { date: '2031-06-09', devices: 2, messages_in: 3, messages_out: 1, bytes_in: 250, bytes_out: 70, throttled: 0, rejected: 0 });
  const stored = await gw.gateway.store.json<UsageCounters>('usage').get(`2031-06-09!${b.device_id}`);
  t.match(stored, { messages_out: 1, bytes_out: 70 }, 'the outbound count is on disk');
  t.match(await gw.gateway.store.json<Record<string, unknown>>('meta').get('usage_rollup'), { date: '2031-06-09', messages_in: 3 });
});
