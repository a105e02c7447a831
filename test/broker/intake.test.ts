import t from 'tap';
import { PassThrough } from 'node:stream';
import { Intake, type AckHold } from '../../src/broker/intake.js';
import type { AcceptedMessage, IngestSink } from '../../src/broker/ingest.js';
import { Presence } from '../../src/devices/presence.js';
import { Admission } from '../../src/health/admission.js';
import { createLogger } from '../../src/log.js';
import { Meter } from '../../src/metering/meter.js';
import { MessageRates } from '../../src/metering/rates.js';
import { GroupCommit, type BatchOp, type CommitContributor } from '../../src/store/group-commit.js';
import { Store } from '../../src/store/store.js';
import { removeDir, tempDir } from '../helpers/gateway.js';

/** Makes the next batch fail: LevelDB refuses a put without a key, and with it the whole batch. */
class FailNextBatch implements CommitContributor {
  armed = false;
  pendingOps(): BatchOp[] {
    if (!this.armed) return [];
    this.armed = false;
    return [{ type: 'put', key: null, value: 'x' } as unknown as BatchOp];
  }
  commitFailed(): void {}
}

/** Where a connection's PUBACKs would wait: records what it was told. */
class RecordingHold implements AckHold {
  readonly held: Array<[number, number]> = [];
  readonly ended: string[] = [];
  hold(messageId: number, batch: number): void { this.held.push([messageId, batch]); }
  batchCommitted(batch: number): void { this.ended.push(`ok ${batch}`); }
  batchFailed(batch: number): void { this.ended.push(`failed ${batch}`); }
}

t.test('a failed batch is logged once per QoS with its message count; the holds hear of it', async (t) => {
  const dir = tempDir();
  const store = new Store(dir);
  await store.start();
  const meter = new Meter({ store, timeZone: 'UTC' });
  await meter.start();
  const commits = new GroupCommit(store.raw, 60_000, 0);
  commits.addContributor(meter);
  const failNext = new FailNextBatch();
  commits.addContributor(failNext);
  const logLines: Array<Record<string, unknown>> = [];
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => { for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>); });
  const staged: AcceptedMessage[] = [];
  const sink: IngestSink = { name: 'recording sink', stage: (m) => { staged.push(m); } };
  const intake = new Intake({
    quota: { max_devices: 1000, max_messages_per_month: 1_000_000, max_bandwidth_gb: 100 },
    log: createLogger('error', logStream), meter, rates: new MessageRates(), admission: new Admission(), presence: new Presence(), commits, sinks: [sink],
  });
  t.teardown(async () => { await meter.stop(); await store.stop(); removeDir(dir); });

  const hold = new RecordingHold();
  const refusals: Array<Error | null | undefined> = [];
  const done = (err?: Error | null): void => { refusals.push(err); };
  failNext.armed = true;
  for (let i = 0; i < 3; i++) intake.accept('iot_dev_aaaaaaaaaaaa', 'devices/iot_dev_aaaaaaaaaaaa/telemetry', Buffer.from('{"t":1}'), 0, done);
  for (let id = 1; id <= 2; id++) intake.accept('iot_dev_aaaaaaaaaaaa', 'devices/iot_dev_aaaaaaaaaaaa/telemetry', Buffer.from('{"t":2}'), 1, done, hold, id);
  t.same(refusals, [null, null, null, null, null], 'every message is accepted at once (QoS 1: its PUBACK waits in the hold)');
  t.equal(staged.length, 5, 'and handed to the sink');
  await t.rejects(commits.flush(), 'the batch holding them fails');
  const batch = hold.held[0]?.[1] ?? -1;
  t.same(hold.held, [[1, batch], [2, batch]], 'both QoS 1 messages waited for the same batch');
  t.same(hold.ended, [`failed ${batch}`], 'the hold heard once that it failed');
  await new Promise((resolve) => setImmediate(resolve));
  const failures = logLines.filter((l) => l.event === 'ingest_commit_failed').map((l) => [l.qos, l.messages]);
  t.same(failures, [[1, 2], [0, 3]], 'one line per QoS with the number of its messages in the failed batch');

  intake.accept('iot_dev_aaaaaaaaaaaa', 'devices/iot_dev_aaaaaaaaaaaa/telemetry', Buffer.from('{"t":3}'), 1, done, hold, 3);
  await commits.flush();
  t.same(hold.ended, [`failed ${batch}`, `ok ${batch + 1}`], 'the next batch is written and its hold told so');
  t.equal(logLines.filter((l) => l.event === 'ingest_commit_failed').length, 2, 'a batch that succeeds logs nothing');
});
