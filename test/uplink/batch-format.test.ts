import t from 'tap';
import { compressIfPays, encodeBatch, GZIP_LEVEL, payloadLimit } from '../../src/uplink/batch-format.js';
import { GzipStream } from '../../src/uplink/gzip-stream.js';
import type { StoredEntry } from '../../src/uplink/outbox.js';
import { decodeBatch } from './helpers/decode.js';
import { telemetry as sample } from './helpers/devices.js';

const telemetry = (n: number): Buffer => sample(n, new Date(Date.UTC(2025, 4, 1)));

const ctx = { gatewayId: 'gw-test', outboxId: '0123456789abcdef', sentAt: Date.UTC(2025, 4, 1) };

function entry(seq: number, payload: Buffer, deviceId = 'iot_dev_aaaaaaaaaaaa'): StoredEntry {
  return { seq, size: 100, deviceId, topic: `devices/${deviceId}/telemetry`, receivedAt: Date.UTC(2025, 4, 1) - 1000 + seq, deviceSeq: seq * 10, payload };
}

t.test('a batch decodes back to its messages (JSON verbatim, anything else base64)', async (t) => {
  const entries = [
    entry(1, telemetry(1)),
    entry(2, Buffer.from([0x00, 0xff, 0xfe])),
    entry(3, Buffer.from('not json')),
    entry(4, Buffer.from('"a JSON string"')),
    entry(5, Buffer.alloc(0)),
    entry(6, Buffer.from('\ufeff{"bom":true}')),
  ];
  const enc = await encodeBatch(entries, ctx, { maxMessages: 100, maxBytes: 1_000_000 });
  if (enc?.kind !== 'batch') throw new Error('expected a batch');
  t.equal(enc.taken, 6);
  t.equal(enc.full, false, 'the input ended it, not a limit');
  t.equal(enc.json[0], 0x7b, 'JSON starts with {');
  const batch = decodeBatch(enc.json);
  t.equal(batch.batch_id, 'gw-test:0000000000000001', 'batch id: gateway id and first outbox seq');
  t.equal(batch.gateway_id, 'gw-test');
  t.equal(batch.outbox_id, ctx.outboxId);
  t.equal(batch.sent_at, '2025-05-01T00:00:00.000Z');
  t.same(batch.messages.map((m) => m.seq), [10, 20, 30, 40, 50, 60]);
  t.same(batch.messages.map((m) => m.json !== undefined), [true, false, false, true, false, false], 'payload when UTF-8 JSON, payload_base64 otherwise (BOM included)');
  for (const [i, m] of batch.messages.entries()) {
    t.same(m.payload, entries[i]?.payload, `payload ${i + 1} round-trips`);
    t.equal(m.device_id, 'iot_dev_aaaaaaaaaaaa');
    t.equal(m.topic, 'devices/iot_dev_aaaaaaaaaaaa/telemetry');
    t.equal(m.received_at, new Date((entries[i] as StoredEntry).receivedAt).toISOString());
  }
  const raw = JSON.parse(enc.json.toString()) as { messages: Array<Record<string, unknown>> };
  t.same(raw.messages[0]?.payload, JSON.parse(telemetry(1).toString()), 'a JSON payload is embedded as JSON, not as a string');
});

t.test('per-device sequence numbers of any width, device ids and topics that need escaping', async (t) => {
  const odd = 'dev "quoted" \\ ünï';
  const entries = [0, 9, 10, 99_999, 281_474_976_710_655].map((deviceSeq, i) => ({ ...entry(i + 1, telemetry(i)), deviceSeq }));
  entries.push({ ...entry(6, Buffer.from('x')), deviceId: odd, topic: 'site/"a"/b', deviceSeq: 7 });
  const enc = await encodeBatch(entries, ctx, { maxMessages: 100, maxBytes: 1_000_000 });
  if (enc?.kind !== 'batch') throw new Error('expected a batch');
  const raw = JSON.parse(enc.json.toString()) as { messages: Array<{ seq: number; device_id: string; topic: string }> };
  t.same(raw.messages.map((m) => m.seq), [0, 9, 10, 99_999, 281_474_976_710_655, 7], 'written digit by digit, exactly');
  t.equal(raw.messages[5]?.device_id, odd);
  t.equal(raw.messages[5]?.topic, 'site/"a"/b');
});

t.test('the size cap holds exactly, envelope included, and the count cap too', async (t) => {
  const entries = Array.from({ length: 300 }, (_, i) => entry(i + 1, telemetry(i)));
  for (const maxBytes of [450, 1000, 5000, 20_000]) {
    const enc = await encodeBatch(entries, ctx, { maxMessages: 1000, maxBytes });
    if (enc?.kind !== 'batch') throw new Error('expected a batch');
    t.ok(enc.json.length <= maxBytes, `${enc.json.length} <= ${maxBytes}`);
    t.ok(enc.full);
    const one = await encodeBatch(entries.slice(0, enc.taken + 1), ctx, { maxMessages: 1000, maxBytes: 10_000_000 });
    if (one?.kind !== 'batch') throw new Error('expected a batch');
    t.ok(one.json.length > maxBytes, 'one more message would not have fitted');
  }
  const byCount = await encodeBatch(entries, ctx, { maxMessages: 50, maxBytes: 1_000_000 });
  t.equal(byCount?.kind === 'batch' && byCount.taken, 50);
  t.equal(byCount?.kind === 'batch' && byCount.full, true);
  const tooBig = await encodeBatch([entry(9, Buffer.alloc(2000, 0x41))], ctx, { maxMessages: 10, maxBytes: 1000 });
  t.equal(tooBig?.kind, 'too_large', 'a message that can never fit is reported, not looped on');
  t.equal(payloadLimit('devices/gw/telemetry', 1_000_000), 1_000_000 - 9 - 20, 'the MQTT header and topic count against batch_max_bytes');
});

t.test('gzip is used when it pays and is recognisable by its first bytes', async (t) => {
  const gzip = new GzipStream(GZIP_LEVEL);
  t.teardown(() => gzip.close());
  const entries = Array.from({ length: 200 }, (_, i) => entry(i + 1, telemetry(i)));
  const enc = await encodeBatch(entries, ctx, { maxMessages: 500, maxBytes: 1_000_000 });
  if (enc?.kind !== 'batch') throw new Error('expected a batch');
  const packed = await compressIfPays(enc.json, gzip);
  t.same([packed[0], packed[1]], [0x1f, 0x8b], 'gzip magic');
  t.ok(packed.length < enc.json.length / 5, `JSON telemetry compresses well (${enc.json.length} → ${packed.length} bytes)`);
  t.same(decodeBatch(packed).messages, decodeBatch(enc.json).messages, 'decodes to the same messages');
  t.equal(await compressIfPays(enc.json, undefined), enc.json, 'gzip off: JSON as it is');

  const random = Array.from({ length: 20 }, (_, i) => entry(i + 1, Buffer.from(Array.from({ length: 300 }, () => Math.floor(Math.random() * 256)))));
  const noisy = await encodeBatch(random, ctx, { maxMessages: 500, maxBytes: 1_000_000 });
  if (noisy?.kind !== 'batch') throw new Error('expected a batch');
  const noisyOut = await compressIfPays(noisy.json, gzip);
  t.ok(noisyOut.length <= noisy.json.length, 'never larger than the JSON');
  const tiny = Buffer.from('{"v":1}');
  t.equal(await compressIfPays(tiny, gzip), tiny, 'a tiny document is not worth compressing');
});

t.test('a large batch is encoded in slices: other work runs in between, and the document is whole', async (t) => {
  const entries = Array.from({ length: 2000 }, (_, i) => entry(i + 1, telemetry(i)));
  const order: string[] = [];
  // Scheduled before the encoding starts: with the encoding in one piece it would come after it.
  setImmediate(() => order.push('other work'));
  const enc = await encodeBatch(entries, ctx, { maxMessages: 2000, maxBytes: 1_000_000 }).finally(() => order.push('encoded'));
  t.same(order, ['other work', 'encoded'], 'the event loop turned while the batch was encoded');
  if (enc?.kind !== 'batch') throw new Error('expected a batch');
  t.equal(enc.taken, 2000);
  t.equal(enc.full, true, 'the count limit ended it');
  const batch = decodeBatch(enc.json);
  t.same(batch.messages.map((m) => m.seq), entries.map((e) => e.deviceSeq), 'every message, in order');
  t.same(batch.messages[1999]?.payload, telemetry(1999));
});
