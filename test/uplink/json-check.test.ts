import t from 'tap';
import { isJsonText } from '../../src/uplink/json-check.js';

function parses(text: string): boolean {
  try { JSON.parse(text); return true; } catch { return false; }
}

const samples = [
  '{"t":1234567.123,"temperature":21.5,"ok":true,"tags":["a","b"],"n":null}', '[]', '{}', '0', '-0', '1e5', '-1.5E-3', '"x"', 'true', 'false', 'null',
  ' \t\r\n{ "a" : [ 1 , 2 , { } , [ ] ] } \n', '"\\u00e9\\n\\t\\"\\\\\\/\\b\\f\\r"', '"é ☃ 😀"', '[[[[[[1]]]]]]', '{"a":{"b":{"c":[true,false,null]}}}',
  '', ' ', '{', '}', '[', ']', '{"a"}', '{"a":}', '{"a":1,}', '[1,]', '[,1]', '{,}', '01', '1.', '.5', '+1', '1e', '1e+', '-', '--1', 'tru', 'nul', 'True',
  'NaN', 'Infinity', "'x'", '"\\x"', '"\\u12"', '"\\u12G4"', '"a\nb"', '"a\u0001b"', '"unterminated', '{"a":1}{"b":2}', '1 2', '[1 2]', '{"a" 1}', '{1:2}',
  '\ufeff{}', '{"a":1}\u0000', '\u00a0{}', '{"__proto__":1}', '[1,2,3,4,5,6,7,8,9,10]', '1.0e-10', '123456789012345678901234567890',
];

t.test('agrees with JSON.parse on hand-picked valid and invalid texts', async (t) => {
  for (const text of samples) t.equal(isJsonText(Buffer.from(text, 'utf8')), parses(text), JSON.stringify(text));
});

t.test('agrees with JSON.parse on 20,000 mutated texts (seeded)', async (t) => {
  let seed = 0x5eed;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = '{}[]":,.-+eE0123456789 \\\nabcfnrtu/\u0001é';
  let disagreements = 0;
  let valid = 0;
  for (let k = 0; k < 20_000; k++) {
    const chars = [...(samples[random(samples.length)] as string)];
    for (let m = random(4) + 1; m > 0; m--) {
      const at = random(chars.length + 1);
      const op = random(3);
      const ch = alphabet[random(alphabet.length)] as string;
      if (op === 0) chars.splice(at, 0, ch);
      else if (op === 1) chars.splice(at, 1);
      else chars.splice(at, 1, ch);
    }
    const text = chars.join('');
    const expected = parses(text);
    if (expected) valid += 1;
    if (isJsonText(Buffer.from(text, 'utf8')) !== expected) {
      disagreements += 1;
      if (disagreements <= 5) t.fail(`disagrees with JSON.parse on ${JSON.stringify(text)}`);
    }
  }
  t.equal(disagreements, 0, 'no disagreement');
  t.ok(valid > 1000, `the mutations kept enough valid texts to test both verdicts (${valid})`);
});

t.test('nesting deeper than 512 levels is refused (the batch then carries it as base64)', async (t) => {
  t.ok(isJsonText(Buffer.from(`${'['.repeat(512)}${']'.repeat(512)}`)), '512 levels');
  t.notOk(isJsonText(Buffer.from(`${'['.repeat(513)}${']'.repeat(513)}`)), '513 levels');
});
