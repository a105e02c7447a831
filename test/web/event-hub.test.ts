import t, { type Test } from 'tap';
import type { PassThrough } from 'node:stream';
import { withGateway } from '../helpers/fixture.js';
import { createLogger } from '../../src/log.js';
import { EventHub, type EventHubLimits } from '../../src/api/events/hub.js';
import type { TestGateway } from '../helpers/gateway.js';

/** A hub over a real gateway's registry, presence and meter, with fast timers; streams read in memory. */
function hub(t: Test, gw: TestGateway, limits: Partial<EventHubLimits>, stats = gw.gateway.stats): EventHub {
  const g = gw.gateway;
  const h = new EventHub({ registry: g.registry, presence: g.presence, meter: g.meter, stats, log: createLogger('silent'), cloudConfigured: false, limits });
  t.teardown(() => h.stop());
  return h;
}

function collect(stream: PassThrough): { text: () => string } {
  let text = '';
  stream.on('data', (c: Buffer) => { text += c.toString(); });
  return { text: () => text };
}

const count = (text: string, what: string): number => text.split(what).length - 1;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('the stats snapshot is computed once per tick, however many streams are open', async (t) => {
  const { gw } = await withGateway(t);
  let reads = 0;
  const source = gw.gateway.stats;
  const stats = { ...source, rates: () => { reads += 1; return source.rates?.() ?? { in_per_sec_1m: 0, in_per_sec_15m: 0, out_per_sec_1m: 0, out_per_sec_15m: 0, bytes_in_per_sec_1m: 0, bytes_in_per_sec_15m: 0, bytes_out_per_sec_1m: 0, bytes_out_per_sec_15m: 0, totals: { messages_in: 0, messages_out: 0, bytes_in: 0, bytes_out: 0 } }; } };
  const h = hub(t, gw, { tickMs: 60_000, heartbeatMs: 60_000 }, stats);
  await h.start();
  const streams = Array.from({ length: 10 }, () => collect(h.open()));
  reads = 0;
  h.tick();
  t.equal(reads, 1, 'one read of the rates for ten streams');
  await sleep(10);
  for (const s of streams) t.equal(count(s.text(), 'event: stats\n'), 1, 'each stream got the tick');
  h.tick();
  h.tick();
  t.equal(reads, 3);
});

t.test('heartbeats are comments, sent on the heartbeat interval', async (t) => {
  const { gw } = await withGateway(t);
  const h = hub(t, gw, { tickMs: 60_000, heartbeatMs: 50 });
  await h.start();
  const s = collect(h.open());
  await sleep(300);
  t.ok(count(s.text(), ': heartbeat\n\n') >= 3, `heartbeats arrived: ${count(s.text(), ': heartbeat')}`);
  t.ok(s.text().startsWith('retry: 3000\n\nevent: hello\n'), 'the stream starts with retry and hello');
});

t.test('a stream that stops reading is dropped once too much is buffered for it', async (t) => {
  const { gw } = await withGateway(t);
  const h = hub(t, gw, { tickMs: 60_000, heartbeatMs: 60_000, maxBufferedBytes: 4096 });
  await h.start();
  const stuck = h.open();
  const reading = collect(h.open());
  // One tick at a time, as the timer would: the reading stream drains between them, the stuck one cannot.
  for (let i = 0; i < 100; i++) { h.tick(); await new Promise((r) => setImmediate(r)); }
  t.ok(stuck.destroyed, 'the stuck stream was destroyed');
  t.equal(h.size, 1, 'the reading one stays');
  t.ok(count(reading.text(), 'event: stats') >= 100);
});

t.test('stop ends every stream and removes every listener', async (t) => {
  const { gw } = await withGateway(t);
  const h = hub(t, gw, { tickMs: 20, heartbeatMs: 20 });
  await h.start();
  const streams = [h.open(), h.open()];
  const ended = streams.map((s) => new Promise<void>((resolve) => { s.on('end', resolve); s.resume(); }));
  await h.stop();
  await Promise.all(ended);
  t.equal(h.size, 0);
  // A stream added after stop would still hear presence events if the hub's listeners were left behind.
  const late = collect(h.open());
  gw.gateway.presence.connected('iot_dev_aaaaaaaaaaaa');
  gw.gateway.presence.disconnected('iot_dev_aaaaaaaaaaaa');
  await sleep(60);
  t.equal(count(late.text(), 'event: device.'), 0, 'no presence listener is left');
  t.equal(count(late.text(), 'event: stats'), 0, 'no timer is left');
});

t.test('a full hub refuses with a 503-class error', async (t) => {
  const { gw } = await withGateway(t);
  const h = hub(t, gw, { maxStreams: 2 });
  await h.start();
  h.open();
  h.open();
  t.throws(() => h.open(), { code: 'busy' });
});
