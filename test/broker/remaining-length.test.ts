import t from 'tap';
import { readVarint, varintLength, writeVarint, type VarintRead } from '../../src/broker/remaining-length.js';

t.test('what writeVarint writes, readVarint reads back, at every length boundary', async (t) => {
  const out: VarintRead = { value: -1, end: -1 };
  for (const n of [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455]) {
    const buf = Buffer.alloc(7, 0xee);
    const end = writeVarint(buf, 2, n);
    t.equal(end - 2, varintLength(n), `${n}: ${varintLength(n)} bytes`);
    t.ok(readVarint(buf, 2, out), `${n}: read`);
    t.same(out, { value: n, end }, `${n}: value and end`);
  }
});

t.test('a varint cut short or longer than four bytes is not read', async (t) => {
  const out: VarintRead = { value: -1, end: -1 };
  t.notOk(readVarint(Buffer.from([0x30, 0x80, 0x80]), 1, out), 'the buffer ends inside it');
  t.notOk(readVarint(Buffer.from([0x30]), 1, out), 'the buffer ends before it');
  t.notOk(readVarint(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 1, out), 'a fifth byte is malformed');
  t.same(out, { value: -1, end: -1 }, 'and nothing is written');
  // Not the shortest form, but what mqtt-packet accepts too.
  t.ok(readVarint(Buffer.from([0x80, 0x00]), 0, out), 'a padded zero');
  t.same(out, { value: 0, end: 2 });
});
