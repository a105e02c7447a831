import t from 'tap';
import { decodeEntry, encodeEntry, encodedEntrySize } from '../../src/uplink/outbox-entry.js';
import { parseSeqKey, seqKey } from '../../src/uplink/outbox-key.js';

t.test('entries round-trip, compactly', async (t) => {
  const e = { deviceId: 'iot_dev_abcdefabcdef', topic: 'devices/iot_dev_abcdefabcdef/telemetry', receivedAt: Date.UTC(2025, 0, 2, 3, 4, 5, 678), deviceSeq: 2 ** 40 + 7, payload: Buffer.from('{"temperature":22.5}') };
  const buf = encodeEntry(e);
  t.equal(buf.length, encodedEntrySize(e.deviceId, e.topic, e.payload.length));
  t.equal(buf.length, 15 + 20 + 2 + 'telemetry'.length + e.payload.length, 'the device topic is stored as its suffix');
  const back = decodeEntry(buf);
  t.same({ ...back, payload: back.payload.toString() }, { ...e, payload: e.payload.toString() });

  const other = { ...e, topic: 'some/other/topic', payload: Buffer.from([0, 255, 1]) };
  const back2 = decodeEntry(encodeEntry(other));
  t.equal(back2.topic, 'some/other/topic');
  t.same([...back2.payload], [0, 255, 1]);
  t.throws(() => decodeEntry(Buffer.from([9, 0, 0])), /not an outbox entry/);
});

t.test('keys sort in sequence order', async (t) => {
  const seqs = [1, 15, 16, 255, 256, 2 ** 32, 2 ** 52];
  const keys = seqs.map(seqKey);
  t.same([...keys].sort(), keys);
  t.ok(keys.every((k) => k.length === 16));
  t.same(keys.map(parseSeqKey), seqs);
  t.throws(() => parseSeqKey('xyz'));
});
