import t from 'tap';
import { RecordIndex } from '../../src/uplink/record-index.js';

t.test('answers which known record holds a sequence number, and nothing below the first known', async (t) => {
  const index = new RecordIndex();
  t.equal(index.holding(5), undefined, 'knows nothing yet: the caller asks LevelDB');
  for (const start of [100, 120, 121, 180]) index.add(start);
  t.equal(index.holding(99), undefined, 'below the first record of this run: may be an older record on disk');
  t.equal(index.holding(100), 100);
  t.equal(index.holding(119), 100, 'inside the first record');
  t.equal(index.holding(120), 120);
  t.equal(index.holding(150), 121, 'the last record starting at or before it');
  t.equal(index.holding(10_000), 180, 'past the last record: the last one');
});

t.test('forgets cleared records, so that an older seq is asked of LevelDB again', async (t) => {
  const index = new RecordIndex();
  for (const start of [10, 20, 30, 40]) index.add(start);
  index.forgetBelow(30);
  t.equal(index.size, 2);
  t.equal(index.holding(25), undefined, 'records 10 and 20 were deleted: not vouched for');
  t.equal(index.holding(35), 30);
  index.forgetBelow(1_000);
  t.equal(index.size, 0);
  t.equal(index.holding(50), undefined);
});

t.test('stays within its bound by letting go of the oldest, and stays correct for the rest', async (t) => {
  const index = new RecordIndex(3);
  for (let start = 1; start <= 10_000; start += 10) index.add(start);
  t.equal(index.size, 3, 'only the newest three');
  t.equal(index.holding(9_975), 9_971, 'the oldest of the three');
  t.equal(index.holding(9_965), undefined, 'older than the newest three: ask LevelDB');
  t.equal(index.holding(9_985), 9_981);
  t.equal(index.holding(9_999), 9_991);
});

t.test('lists the records of a range only when it knows all of them', async (t) => {
  const index = new RecordIndex(3);
  t.equal(index.between(1, 100), undefined, 'knows nothing: some may be on disk');
  for (const start of [10, 20, 30]) index.add(start);
  t.same(index.between(10, 30), [10, 20], 'from the first known record up to (not with) the one at 30');
  t.same(index.between(10, 25), [10, 20]);
  t.same(index.between(20, 20), [], 'an empty range');
  t.equal(index.between(5, 30), undefined, 'below the first known record: an older one may be on disk');
  index.add(40);
  t.equal(index.between(10, 40), undefined, 'the record at 10 was let go (bound of 3): not vouched for');
  t.same(index.between(20, 40), [20, 30]);
});
