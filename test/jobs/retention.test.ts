import t from 'tap';
import { withGateway } from '../helpers/fixture.js';
import type { UsageCounters } from '../../src/metering/usage.js';
import { addToTotals } from '../../src/metering/usage-totals.js';

const row: UsageCounters = { messages_in: 1, messages_out: 0, bytes_in: 10, bytes_out: 0, throttled: 0, rejected: 0 };

/**
 * Writes usage rows for `days` × `devices` straight into the store, with the totals rows the meter
 * keeps beside them (what months of metering leave behind); returns the number of day rows.
 */
async function seedUsage(db: { batch(ops: Array<{ type: 'put'; key: string; value: UsageCounters }>): Promise<void> }, days: string[], devices: number): Promise<number> {
  let n = 0;
  const totals = new Map<string, UsageCounters>();
  for (const day of days) {
    const ops = Array.from({ length: devices }, (_, i) => ({ type: 'put' as const, key: `${day}!iot_dev_${String(i).padStart(12, '0')}`, value: row }));
    for (const op of ops) addToTotals(totals, op.key, op.value);
    await db.batch(ops);
    n += ops.length;
  }
  await db.batch([...totals].map(([key, value]) => ({ type: 'put' as const, key, value })));
  return n;
}

function daysOf(month: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${month}-${String(i + 1).padStart(2, '0')}`);
}

t.test('retention prunes old usage rows and registered hooks, and compacts when worthwhile', async (t) => {
  const clock = Date.parse('2031-06-10T03:30:00Z');
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_GATEWAY_TIMEZONE: 'UTC', WAYS_EDGE_JOBS_USAGE_RETENTION_DAYS: '30' }, now: () => new Date(clock) });
  const usage = gw.gateway.store.json<UsageCounters>('usage');
  const meta = gw.gateway.store.json<{ deletes_since: number; last_at: string | null }>('meta');
  const old = await seedUsage(usage, daysOf('2031-04', 30), 2000);
  await seedUsage(usage, ['2031-06-01'], 3);

  let hookCalls = 0;
  const remove = gw.gateway.retention.add({ name: 'outbox_test', prune: async () => { hookCalls += 1; return 7; } });
  const ran = new Promise<unknown>((resolve) => { const off = gw.gateway.jobs.events.on('ran', (name, result) => { if (name === 'retention') { off(); resolve(result); } }); });
  await gw.gateway.jobs.runNow('retention');
  t.same(await ran, { usage: old, outbox_test: 7, compacted: true }, `${old} rows older than 30 days went, and the store was compacted after so large a prune`);
  t.equal(hookCalls, 1, 'the registered hook ran');
  t.match(await meta.get('compaction'), { deletes_since: 0, last_at: String });

  const april = (await api.get<{ days: unknown[] }>('/v1/iot/usage?start_date=2031-04-01&end_date=2031-04-30')).body;
  t.same(april.days, [], 'April is gone');
  const june = (await api.get<{ totals: { messages_in: number } }>('/v1/iot/usage?start_date=2031-06-01&end_date=2031-06-10')).body;
  t.equal(june.totals.messages_in, 3, 'recent rows stay');

  remove();
  const fewer = await seedUsage(usage, daysOf('2031-03', 6), 2000);
  await gw.gateway.jobs.runNow('retention');
  t.equal(hookCalls, 1, 'a removed hook is not called');
  t.match(await meta.get('compaction'), { deletes_since: fewer }, 'a smaller prune is only counted');
  const compacted = new Promise<unknown>((resolve) => { const off = gw.gateway.jobs.events.on('ran', (name, result) => { if (name === 'compaction') { off(); resolve(result); } }); });
  await gw.gateway.jobs.runNow('compaction');
  t.match(await compacted, { compacted: true, deletes_since: fewer }, 'the weekly compaction finds it worthwhile');
  t.match(await meta.get('compaction'), { deletes_since: 0 });
});

t.test('a failing retention hook does not stop the others', async (t) => {
  const { gw } = await withGateway(t);
  gw.gateway.retention.add({ name: 'broken', prune: async () => { throw new Error('disk on fire'); } });
  gw.gateway.retention.add({ name: 'fine', prune: async () => 2 });
  const result = await gw.gateway.retention.run();
  t.same(result, { usage: 0, fine: 2, compacted: false });
});
