import t from 'tap';
import { decodeEntry, type OutboxEntry } from '../../src/uplink/outbox-entry.js';
import { entriesOf, entryCountOf } from '../../src/uplink/outbox-record.js';
import { RecordBuilder } from '../../src/uplink/record-builder.js';

const entry = (n: number, payloadBytes = 40): OutboxEntry => ({
  deviceId: `iot_dev_${String(n % 7).padStart(12, '0')}`,
  topic: n % 3 === 0 ? 'site/floor1/other' : `devices/iot_dev_${String(n % 7).padStart(12, '0')}/telemetry`,
  receivedAt: 1_764_000_000_000 + n,
  deviceSeq: n,
  payload: Buffer.from(JSON.stringify({ n, pad: 'x'.repeat(payloadBytes) })),
});

t.test('entries appended one by one read back from the record they make, in order', async (t) => {
  const builder = new RecordBuilder();
  t.equal(builder.take(), undefined, 'nothing appended: no record');
  const written = Array.from({ length: 300 }, (_, i) => entry(i, i % 50 === 0 ? 5_000 : 40));
  const views = written.map((e) => builder.append(e));
  t.equal(builder.count, 300);
  const record = builder.take();
  if (!record) throw new Error('expected a record');
  t.equal(entryCountOf(record), 300);
  const back = entriesOf(record).map(decodeEntry);
  t.same(back, written, 'every field of every entry (the buffer grew several times on the way)');
  t.same(entriesOf(record).map((e) => e.length), views.map((v) => v.bytes), 'the sizes it reported');
  t.equal(builder.count, 0, 'the next record starts empty');
  t.equal(builder.take(), undefined);
});

t.test('payload views stay valid: across growth, after take(), while the next record fills', async (t) => {
  const builder = new RecordBuilder();
  const first = builder.append(entry(1));
  for (let i = 2; i < 200; i++) builder.append(entry(i, 1_000)); // grows past the first buffer
  const record = builder.take();
  const next = builder.append(entry(500));
  for (let i = 501; i < 600; i++) builder.append(entry(i, 2_000));
  t.same(first.payload, entry(1).payload, 'the first payload, after its buffer was outgrown and taken');
  t.same(next.payload, entry(500).payload);
  t.same(decodeEntry(entriesOf(record as Buffer)[0] as Buffer), entry(1), 'the taken record is unchanged by later appends');
});

t.test('an entry that cannot be stored throws and leaves the record as it was', async (t) => {
  const builder = new RecordBuilder();
  builder.append(entry(1));
  t.throws(() => builder.append({ ...entry(2), deviceId: 'd'.repeat(300) }), RangeError);
  t.throws(() => builder.append({ ...entry(3), topic: 't'.repeat(70_000) }), RangeError);
  builder.append(entry(4));
  const record = builder.take() as Buffer;
  t.same(entriesOf(record).map(decodeEntry), [entry(1), entry(4)]);
});
