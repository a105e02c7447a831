import t from 'tap';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { DropLog } from '../../src/uplink/drop-log.js';

t.test('drops are logged once per episode, not per message', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
  const log = createLogger('info', sink);
  const drops = new DropLog(log, { maxBytes: 1000, maxAgeHours: 1 });
  for (let i = 0; i < 1000; i++) drops.record('bytes_cap', 3, 1000 + i);
  drops.tick(1000 + 999 + 30_000);
  drops.record('age_cap', 5, 1000 + 999 + 40_000);
  drops.tick(1000 + 999 + 40_000 + 60_000);
  drops.record('bytes_cap', 1, 200_000);
  await new Promise((r) => setImmediate(r));
  t.same(lines.map((l) => l.event), ['outbox_dropping', 'outbox_dropping_ended', 'outbox_dropping'], 'one warning per episode, one summary when it ends');
  t.same(lines[1]?.dropped, { bytes_cap: 3000, age_cap: 5 });
});
