import t from 'tap';
import { TopicCache } from '../../src/uplink/topic-cache.js';

t.test('a value is found again for the same device and topic, not for another device on that topic', async (t) => {
  const cache = new TopicCache<string>(10);
  t.equal(cache.lookup('dev_a', 'devices/dev_a/telemetry'), undefined, 'nothing before it is stored');
  t.equal(cache.store('dev_a', 'devices/dev_a/telemetry', 'A'), 'A', 'store returns what it stored');
  t.equal(cache.lookup('dev_a', 'devices/dev_a/telemetry'), 'A');
  t.equal(cache.lookup('dev_b', 'devices/dev_a/telemetry'), undefined, 'a topic another device published on is not its value');
});

t.test('a full cache starts over instead of growing', async (t) => {
  const cache = new TopicCache<number>(3);
  for (let i = 0; i < 3; i++) cache.store('dev', `t${i}`, i);
  t.equal(cache.lookup('dev', 't2'), 2);
  cache.store('dev', 't3', 3);
  t.equal(cache.lookup('dev', 't0'), undefined, 'the old topics are gone');
  t.equal(cache.lookup('dev', 't3'), 3, 'the new one is kept');
});
