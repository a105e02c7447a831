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

t.test('one topic published by two devices, and a device publishing on two topics, encode each as it was', async (t) => {
  const a = 'iot_dev_aaaaaaaaaaaa';
  const b = 'iot_dev_bbbbbbbbbbbb';
  const shared = 'building/lobby/temperature';
  const entries = [
    { deviceId: a, topic: shared, receivedAt: 1, deviceSeq: 1, payload: Buffer.from('1') },
    { deviceId: b, topic: shared, receivedAt: 2, deviceSeq: 1, payload: Buffer.from('2') },
    { deviceId: a, topic: `devices/${a}/telemetry`, receivedAt: 3, deviceSeq: 2, payload: Buffer.from('3') },
    { deviceId: a, topic: shared, receivedAt: 4, deviceSeq: 3, payload: Buffer.from('4') },
    { deviceId: 'iot_dev_ééééééééééé', topic: 'devices/iot_dev_ééééééééééé/télémétrie', receivedAt: 5, deviceSeq: 1, payload: Buffer.from('5') },
  ];
  for (const e of entries) t.same(decodeEntry(encodeEntry(e)), e, `${e.deviceId} on ${e.topic}`);
  t.throws(() => encodeEntry({ ...entries[0]!, topic: 'x'.repeat(70_000) }), RangeError, 'a topic too long for its length field');
  t.throws(() => encodeEntry({ ...entries[0]!, topic: 'x'.repeat(70_000) }), RangeError, 'and again (nothing cached)');
});
