import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { removeDir } from '../helpers/gateway.js';

interface Quota { current_messages: number; current_bandwidth_gb: number }
interface Usage { days: Array<{ date: string; messages_in: number; bytes_in: number }>; totals: { messages_in: number } }

t.test('at the turn of the month /quota starts from zero while /usage keeps the old month', async (t) => {
  let clock = Date.parse('2031-01-31T23:59:50Z');
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_GATEWAY_TIMEZONE: 'UTC' }, now: () => new Date(clock) });
  const meta = gw.gateway.store.json<{ month: string; started_at: string }>('meta');
  t.match(await meta.get('quota_period'), { month: '2031-01' }, 'the period is recorded at the first start');

  const device = await registerDevice(api);
  for (let i = 0; i < 5; i++) gw.gateway.meter.count(device.device_id, 'in', 100);
  await gw.gateway.commits.flush();
  t.equal((await api.get<Quota>('/v1/iot/quota')).body.current_messages, 5);

  clock = Date.parse('2031-02-01T00:00:05Z');
  const ran = new Promise<unknown>((resolve) => { const off = gw.gateway.jobs.events.on('ran', (name, result) => { if (name === 'quota_reset') { off(); resolve(result); } }); });
  await gw.gateway.jobs.runNow('quota_reset');
  t.match(await ran, { month: '2031-02', reset: true, previous: '2031-01', previous_messages: 5, previous_bytes: 500 });
  t.equal(gw.gateway.meter.currentMonth, '2031-02', 'the meter moved to the new month');
  t.match(await meta.get('quota_period'), { month: '2031-02', started_at: '2031-02-01T00:00:05.000Z' }, 'the period start is recorded in meta');

  t.equal((await api.get<Quota>('/v1/iot/quota')).body.current_messages, 0, '/quota starts from zero');
  const usage = (await api.get<Usage>('/v1/iot/usage?start_date=2031-01-01&end_date=2031-02-28')).body;
  t.same(usage.days.map((d) => [d.date, d.messages_in, d.bytes_in]), [['2031-01-31', 5, 500]], '/usage keeps the old month');

  gw.gateway.meter.count(device.device_id, 'in', 10);
  t.equal((await api.get<Quota>('/v1/iot/quota')).body.current_messages, 1, 'and the new month counts on');
  const again = new Promise<unknown>((resolve) => { const off = gw.gateway.jobs.events.on('ran', (name, result) => { if (name === 'quota_reset') { off(); resolve(result); } }); });
  await gw.gateway.jobs.runNow('quota_reset');
  t.match(await again, { reset: false }, 'a second run in the same month changes nothing');
  t.equal((await api.get<Quota>('/v1/iot/quota')).body.current_messages, 1);
});

t.test('a gateway that was off at the turn of the month catches up at start', async (t) => {
  let clock = Date.parse('2031-03-15T12:00:00Z');
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_GATEWAY_TIMEZONE: 'Europe/Oslo' }, now: () => new Date(clock), keep: true });
  const device = await registerDevice(api);
  gw.gateway.meter.count(device.device_id, 'in', 42);
  await gw.stop();
  // 23:30 UTC on 31 March is already 1 April in Oslo (UTC+2 in summer time).
  clock = Date.parse('2031-03-31T23:30:00Z');
  const next = await gw.restart();
  t.teardown(async () => { await next.stop(); removeDir(next.dataDir); });
  const meta = next.gateway.store.json<{ month: string }>('meta');
  t.match(await meta.get('quota_period'), { month: '2031-04' }, 'the period follows gateway.timezone');
  t.equal(next.gateway.meter.currentMonth, '2031-04');
});
