import t from 'tap';
import { encodeRecord, entriesOf, entryCountOf } from '../../src/uplink/outbox-record.js';
import { decodeEntry, encodeEntry } from '../../src/uplink/outbox-entry.js';

const entry = (n: number): Buffer => encodeEntry({ deviceId: 'iot_dev_aaaaaaaaaaaa', topic: 'devices/iot_dev_aaaaaaaaaaaa/telemetry', receivedAt: 1_764_000_000_000 + n, deviceSeq: n, payload: Buffer.from(JSON.stringify({ n })) });

t.test('a record holds its entries in order and gives them back as they were', async (t) => {
  const entries = [1, 2, 3].map(entry);
  const record = encodeRecord(entries);
  t.equal(entryCountOf(record), 3);
  const back = entriesOf(record);
  t.same(back.map((b) => Buffer.from(b)), entries);
  t.same(back.map((b) => decodeEntry(b).deviceSeq), [1, 2, 3]);
  t.same(entriesOf(encodeRecord([])), [], 'an empty record is empty');
});

t.test('a bare entry (the format before records) is a record of one', async (t) => {
  const bare = entry(7);
  t.equal(entryCountOf(bare), 1);
  t.same(entriesOf(bare), [bare]);
});

t.test('a damaged record is refused, not misread', async (t) => {
  const record = encodeRecord([entry(1), entry(2)]);
  t.throws(() => entriesOf(record.subarray(0, record.length - 3)), /cut short/);
  const other = Buffer.from(record);
  other[0] = 9;
  t.throws(() => entriesOf(other), /not an outbox record/);
  t.throws(() => entryCountOf(other), /not an outbox record/);
});

t.test('a part of a record: from its skip-th entry, at most max of them', async (t) => {
  const parts = [Buffer.from('a'), Buffer.from('bb'), Buffer.from('ccc'), Buffer.from('dddd')];
  const record = encodeRecord(parts);
  t.same(entriesOf(record, 1, 2), [parts[1], parts[2]], 'the middle two');
  t.same(entriesOf(record, 3), [parts[3]], 'the last');
  t.same(entriesOf(record, 4), [], 'past the end: none');
  t.same(entriesOf(record, 0, 0), [], 'none wanted');
  t.throws(() => entriesOf(record.subarray(0, record.length - 1), 3), /cut short/, 'a record cut short inside the part read is refused');
  const bare = Buffer.from([1, 2, 3]);
  t.same(entriesOf(bare, 1), [], 'a bare entry is the 0th entry of its record');
});
