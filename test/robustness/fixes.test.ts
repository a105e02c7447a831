import t from 'tap';
import { PassThrough } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import type { Client } from 'aedes';
import { PacketSizeGuard } from '../../src/broker/packet-size.js';
import { filterProblem, judgeHeader } from '../../src/broker/packet-rules.js';
import { Connections } from '../../src/broker/connections.js';
import { AuthQueue } from '../../src/broker/auth-queue.js';
import { FailureThrottle } from '../../src/broker/failure-throttle.js';
import { capUnsentBytes } from '../../src/broker/slow-consumer.js';
import { Presence } from '../../src/devices/presence.js';
import { crc32c, readRecords } from '../../src/store/integrity.js';
import { bytesOf } from './helpers/corpus.js';

/** The pure parts of the fixes the robustness tests led to, one table each. */

t.test('packet rules: the MQTT 3.1.1 structure the parser leaves out', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['PINGREQ', 'C0 00', true], ['PINGREQ with a body byte', 'C0 01 00', false], ['DISCONNECT with a body byte', 'E0 01 00', false],
    ['PUBACK', '40 02 00 01', true], ['PUBACK, packet id 0', '40 02 00 00', false], ['PUBACK, 3 bytes', '40 03 00 01 00', false], ['PUBACK, 0 bytes', '40 00', false],
    ['PUBREL', '62 02 12 34', true], ['PUBCOMP, packet id 0', '70 02 00 00', false],
    ['PUBLISH QoS 0', "30 r7 s1 'p' 'data'", true], ['PUBLISH QoS 0 with DUP', "38 r7 s1 'p' 'data'", false],
    ['PUBLISH QoS 1', "32 r9 s1 'p' m7 'data'", true], ['PUBLISH QoS 1 without a packet id', "32 r3 s1 'p'", false],
    ['PUBLISH QoS 2, packet id 0', "34 r9 s1 'p' m0 'data'", false],
    ['SUBSCRIBE', "82 r6 m1 s1 'p' 01", true], ['SUBSCRIBE, packet id 0', "82 r6 m0 s1 'p' 01", false], ['SUBSCRIBE QoS 3', "82 r6 m1 s1 'p' 03", false],
    ['SUBSCRIBE, no filter', '82 r2 m1', false], ['SUBSCRIBE, a NUL in the filter', '82 r10 m1 s5 746F700000 00', false],
    ['SUBSCRIBE, a surrogate in the filter', '82 r10 m1 s5 746FEDA080 00', false], ['SUBSCRIBE, a + inside a level', "82 r10 m1 s5 'ab/+e' 00", false],
    ['SUBSCRIBE, # not last', "82 r8 m1 s3 '#/a' 00", false], ['SUBSCRIBE, # last', "82 r8 m1 s3 'a/#' 00", true],
    ['UNSUBSCRIBE', "A2 r5 m1 s1 'p'", true], ['UNSUBSCRIBE, no filter', 'A2 r2 m1', false], ['UNSUBSCRIBE, empty filter', 'A2 r4 m1 s0', false],
    ['CONNACK from a client', '20 02 00 00', false], ['reserved type 0', '00 00', false], ['reserved type 15', 'F0 00', false],
  ];
  for (const [what, description, ok] of cases) {
    const bytes = bytesOf(description);
    const whole = new PacketSizeGuard(1_000_000);
    t.equal(whole.inspect(bytes), ok, `${what}: ${ok ? 'passes' : `refused (${whole.problem})`}`);
    const split = new PacketSizeGuard(1_000_000);
    t.equal([...bytes].every((b) => split.inspect(Buffer.from([b]))), ok, `${what}, one byte at a time: the same`);
  }
  const stream = Buffer.concat([bytesOf("32 r9 s1 'p' m7 'data'"), bytesOf('C0 00'), bytesOf("82 r6 m1 s1 'p' 01"), bytesOf('40 02 00 09')]);
  t.ok(new PacketSizeGuard(1_000_000).inspect(stream), 'valid packets back to back');
  const big = mqttPacket.generate({ cmd: 'subscribe', messageId: 3, subscriptions: Array.from({ length: 2_000 }, (_, i) => ({ topic: `devices/iot_dev_${String(i).padStart(12, '0')}/telemetry`, qos: 1 as const })) });
  t.ok(new PacketSizeGuard(1_000_000).inspect(big), 'a SUBSCRIBE of 2,000 filters');
  t.equal(judgeHeader(0x10, 13), null, 'CONNECT is the parser\'s to judge');
  t.equal(filterProblem(Buffer.from('devices/+/telemetry')), undefined);
  t.match(filterProblem(Buffer.from('a\u007fb')), /control character U\+007F/);
  t.match(filterProblem(Buffer.from([0x61, 0xef, 0xbf, 0xbf])), /noncharacter U\+FFFF/);
});

t.test('connections: a connection reported closed before it was reported ready is never counted open', async (t) => {
  const presence = new Presence();
  const c = new Connections(presence);
  const device = { kind: 'device', deviceId: 'iot_dev_aaaaaaaaaaaa' } as const;
  const app = { kind: 'app', name: 'bms' } as const;
  const early = { closed: true } as unknown as Client;
  c.closed(early, device);
  c.opened(early, device);
  t.equal(c.deviceCount, 0, 'a device: not online');
  t.equal(presence.isOnline(device.deviceId), false);
  const earlyApp = { closed: false } as unknown as Client;
  c.closed(earlyApp, app);
  t.equal(c.appCount, 0, 'an application closed before it opened: the count does not go below zero');
  const live = { closed: false } as unknown as Client;
  c.opened(live, device);
  c.opened(live, device);
  t.equal(c.deviceCount, 1, 'opened twice: counted once');
  c.closed(live, device);
  c.closed(live, device);
  t.equal(c.deviceCount, 0, 'closed twice: gone once');
});

t.test('auth queue: waiting checks are served round-robin by address', async (t) => {
  const q = new AuthQueue(1, 100);
  const order: string[] = [];
  let release: () => void = () => undefined;
  const blocker = q.run(() => new Promise<void>((resolve) => { release = resolve; }), () => false, 'x');
  const runs = ['a', 'a', 'a', 'a', 'b', 'c'].map((address, i) => q.run(async () => { order.push(`${address}${i}`); }, () => false, address));
  release();
  await Promise.all([blocker, ...runs]);
  t.same(order, ['a0', 'b4', 'c5', 'a1', 'a2', 'a3'], 'one of the busy address, then the others, then the rest of it');
});

t.test('failure throttle: the back-off window of a key', async (t) => {
  const f = new FailureThrottle({ freeFailures: 2, baseDelayMs: 100, maxDelayMs: 400, forgetAfterMs: 10_000, maxKeys: 10 });
  const at = 1_000_000;
  f.failed(['k'], at);
  f.failed(['k'], at);
  t.equal(f.backoffMs('k', at), 0, 'free failures: no back-off');
  f.failed(['k'], at);
  t.equal(f.backoffMs('k', at + 30), 70, 'the third: 100 ms from the failure');
  t.equal(f.backoffMs('k', at + 150), 0, 'over');
  t.equal(f.backoffMs('other', at), 0, 'another key is not affected');
});

t.test('slow consumer: writes never make aedes wait; past the cap the connection goes', async (t) => {
  const socket = new PassThrough({ highWaterMark: 16 });
  let slow = 0;
  capUnsentBytes(socket, 1_000, (n) => { slow = n; });
  t.equal(socket.write(Buffer.alloc(500)), true, 'over the high-water mark, under the cap: "written"');
  t.notOk(socket.destroyed);
  t.equal(socket.write(Buffer.alloc(600)), true);
  t.ok(socket.destroyed && slow > 1_000, `past the cap: destroyed (${slow} bytes unread)`);
});

t.test('LevelDB log reader: CRC32C, records across blocks, torn tails and damage', async (t) => {
  t.equal(crc32c(Buffer.from('123456789')), 0xe3069283, 'the CRC-32C check value');
  const record = (type: number, data: Buffer): Buffer => {
    const header = Buffer.alloc(7);
    const crc = crc32c(Buffer.concat([Buffer.from([type]), data]));
    header.writeUInt32LE(((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0, 0);
    header.writeUInt16LE(data.length, 4);
    header[6] = type;
    return Buffer.concat([header, data]);
  };
  const log = Buffer.concat([record(1, Buffer.from('one')), record(2, Buffer.from('tw')), record(4, Buffer.from('o'))]);
  const got: string[] = [];
  t.same(readRecords(log, (r) => { got.push(r.toString()); return undefined; }), { tornBytes: 0 }, 'a whole log');
  t.same(got, ['one', 'two'], 'a FULL record and a FIRST+LAST one');
  t.same(readRecords(log.subarray(0, log.length - 3), () => undefined), { tornBytes: 14 }, 'cut inside the last fragment: the whole unfinished record (from its FIRST fragment, byte 10) is a torn tail');
  const damaged = Buffer.from(log);
  damaged[8] = (damaged[8] as number) ^ 0xff;
  t.match(readRecords(damaged, () => undefined), { problem: /damaged at byte 0 \(checksum mismatch\)/ }, 'a flipped byte is damage');
  const tooLong = Buffer.from(log);
  tooLong.writeUInt16LE(40_000, 4);
  t.match(readRecords(tooLong, () => undefined), { problem: /bad record length/ }, 'a length past the block is damage');
});
