import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import t from 'tap';
import { GzipStream } from '../../src/uplink/gzip-stream.js';

const LEVEL = 6;

function document(i: number, bytes: number): Buffer {
  return Buffer.from(JSON.stringify({ n: i, rows: Array.from({ length: Math.ceil(bytes / 40) }, (_, k) => ({ k, t: 20 + ((i * k) % 7) })) }));
}

t.test('one stream makes a whole gzip file per document, byte for byte what zlib.gzip makes', async (t) => {
  const gzip = new GzipStream(LEVEL);
  t.teardown(() => gzip.close());
  for (let i = 0; i < 20; i++) {
    const input = document(i, 1_000 + i * 5_000);
    const packed = await gzip.compress(input);
    t.ok(gunzipSync(packed).equals(input), `document ${i} unpacks to itself, alone`);
    t.ok(packed.equals(gzipSync(input, { level: LEVEL })), `document ${i}: same bytes as a fresh stream`);
  }
});

t.test('large incompressible documents (many output chunks) and callers that overlap', async (t) => {
  const gzip = new GzipStream(LEVEL);
  t.teardown(() => gzip.close());
  const inputs = [randomBytes(1_000_000), document(1, 200_000), randomBytes(300_000), document(2, 50)];
  // All at once: the first has the stream, the others are not kept waiting behind it.
  const packed = await Promise.all(inputs.map((input) => gzip.compress(input)));
  packed.forEach((p, i) => t.ok(gunzipSync(p).equals(inputs[i] as Buffer), `document ${i} unpacks to itself`));
  // And the stream is still good for the next one.
  const next = document(3, 10_000);
  t.ok(gunzipSync(await gzip.compress(next)).equals(next));
});
