import t from 'tap';
import { median, percentile, percentileSorted, summarize, Samples } from '../../bench/lib/stats.js';
import { parseCpuModel, parseProcNetTcp, parseProcStatBusyTicks, parseSchedstatWaitSeconds, parseStatTicks, parseStatusKb, parseVmRssKb, cpuSeconds, rssKb, runQueueWaitSeconds } from '../../bench/lib/proc.js';
import { moduleOf, selfTimes, sliceProfile, type CpuProfile } from '../../bench/lib/cpuprofile.js';
import { allocations, type HeapProfileNode } from '../../bench/lib/heap-profile.js';
import { payloadTemplate, readDigits, sentAtUs, stamp, writeDigits } from '../../bench/lib/payload.js';
import { PublishTemplate, varintLength, writeVarint } from '../../bench/lib/lean-mqtt.js';
import mqttPacket from 'mqtt-packet';
import { Report } from '../../bench/lib/report.js';
import { parseSettings } from '../../bench/lib/settings.js';

t.test('percentiles use the nearest rank', async (t) => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  t.equal(percentile(xs, 50), 50);
  t.equal(percentile(xs, 95), 95);
  t.equal(percentile(xs, 99), 99);
  t.equal(percentile(xs, 100), 100);
  t.equal(percentile([7], 99), 7);
  t.ok(Number.isNaN(percentile([], 50)));
  t.equal(percentileSorted([1, 2, 3, 4], 50), 2);
  t.equal(percentileSorted([1, 2, 3, 4], 51), 3);
  t.equal(percentile([10, 2, 33], 0), 2, 'p0 is the minimum');
});

t.test('the median of runs ignores failed (NaN) runs', async (t) => {
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.equal(median([5, NaN, 1]), 3);
  t.ok(Number.isNaN(median([])));
  const s = summarize([5, 1, 4, 2, 3]);
  t.same({ ...s }, { count: 5, p50: 3, p95: 5, p99: 5, max: 5 });
});

t.test('the sample buffer grows and then stops at its cap', async (t) => {
  const s = new Samples(5, 2);
  for (let i = 0; i < 7; i++) s.add(i);
  t.equal(s.length, 5);
  t.equal(s.dropped, 2);
  t.same([...s.view()], [0, 1, 2, 3, 4]);
});

t.test('/proc/<pid>/stat: utime + stime, also when the command name has spaces and parentheses', async (t) => {
  const line = '12345 (node (worker) x) S 1 12345 12345 0 -1 4194560 5000 0 0 0 250 75 0 0 20 0 11 0 100 1000000 2500 18446744073709551615';
  t.equal(parseStatTicks(line), 325);
  t.throws(() => parseStatTicks('garbage'));
  t.ok(cpuSeconds(process.pid) > 0, 'this process has used some CPU');
});

t.test('/proc/<pid>/task/<tid>/schedstat: time waiting for a CPU', async (t) => {
  // Fields: ns on the CPU, ns runnable but waiting on a run queue, timeslices.
  t.equal(parseSchedstatWaitSeconds('1873023510 250000000 5012\n'), 0.25);
  t.throws(() => parseSchedstatWaitSeconds('garbage'));
  const wait = runQueueWaitSeconds(process.pid);
  t.ok(wait === undefined || wait >= 0, 'this process\'s main thread has a wait figure, or the kernel keeps none');
  t.equal(runQueueWaitSeconds(process.pid, 999_999_999), undefined, 'no such thread');
});

t.test('/proc/<pid>/status: VmRSS in kB', async (t) => {
  t.equal(parseVmRssKb('Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t   57344 kB\nRssAnon:\t 1 kB\n'), 57344);
  t.ok(Number.isNaN(parseVmRssKb('Name:\tzombie\n')));
  t.equal(parseStatusKb('VmRSS:\t 100 kB\nRssAnon:\t   60 kB\nRssFile:\t 40 kB\n', 'RssAnon'), 60);
  t.ok(rssKb(process.pid) > 1000, 'this process has a resident set');
});

t.test('/proc/net/tcp: ports and kernel queues', async (t) => {
  const text = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0',
    '   1: 0100007F:9C40 0100007F:1F90 01 0003A000:00000010 01:00000014 00000000     0        0 2 1 0 20 4 30 10 -1',
  ].join('\n');
  const rows = parseProcNetTcp(text);
  t.equal(rows.length, 2);
  t.same(rows[0], { localPort: 8080, remotePort: 0, state: 0x0a, txQueue: 0, rxQueue: 0 });
  t.same(rows[1], { localPort: 40000, remotePort: 8080, state: 1, txQueue: 0x3a000, rxQueue: 16 });
});

t.test('/proc/stat and /proc/cpuinfo', async (t) => {
  t.equal(parseProcStatBusyTicks('cpu  100 5 50 1000 20 3 2 7 0 0\ncpu0 1 2 3\n'), 100 + 5 + 50 + 3 + 2 + 7);
  t.equal(parseCpuModel('processor\t: 0\nmodel name\t: AMD EPYC 7B13\n'), 'AMD EPYC 7B13');
  t.equal(parseCpuModel('processor\t: 0\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n'), 'Raspberry Pi 4 Model B Rev 1.4');
});

t.test('the payload carries its send time and sequence as fixed-width digits and stays valid JSON', async (t) => {
  const p = payloadTemplate(200);
  t.equal(p.length, 200);
  stamp(p, 0, 2_612_345_678, 42);
  t.equal(sentAtUs(p), 2_612_345_678);
  const doc = JSON.parse(p.toString('utf8')) as { t: string; s: string };
  t.equal(Number(doc.t), 2_612_345_678);
  t.equal(Number(doc.s), 42);
  const b = Buffer.alloc(4);
  writeDigits(b, 0, 4, 7);
  t.equal(b.toString(), '0007');
  t.equal(readDigits(b, 0, 4), 7);
  t.ok(Number.isNaN(sentAtUs(Buffer.from('{}'))));
});

t.test('pre-encoded PUBLISH packets are what mqtt-packet parses', async (t) => {
  for (const qos of [0, 1] as const) {
    const payload = payloadTemplate(200);
    const tpl = new PublishTemplate('devices/iot_dev_000000000001/telemetry', payload, qos);
    const buf = Buffer.alloc(tpl.length * 2);
    tpl.writeInto(buf, 0, 7);
    tpl.writeInto(buf, tpl.length, 8);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const got: mqttPacket.IPublishPacket[] = [];
    parser.on('packet', (p) => got.push(p as mqttPacket.IPublishPacket));
    parser.parse(buf);
    t.equal(got.length, 2, `qos ${qos}: two packets`);
    t.equal(got[0]?.topic, 'devices/iot_dev_000000000001/telemetry');
    t.equal(got[0]?.qos, qos);
    t.same(got[1]?.payload, payload);
    if (qos === 1) t.same(got.map((p) => p.messageId), [7, 8]);
  }
  for (const n of [0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152]) {
    const b = Buffer.alloc(4);
    t.equal(writeVarint(b, 0, n), varintLength(n), `varint length of ${n}`);
  }
});

t.test('CPU profile: self time per function and module, cut to a window', async (t) => {
  const profile: CpuProfile = {
    startTime: 1_000,
    endTime: 1_000 + 40,
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 3] },
      { id: 2, callFrame: { functionName: 'deliver', url: 'file:///x/node_modules/aedes/lib/client.js', lineNumber: 9 }, children: [4] },
      { id: 3, callFrame: { functionName: 'stage', url: 'file:///x/dist/src/uplink/outbox.js', lineNumber: 99 } },
      { id: 4, callFrame: { functionName: 'writev', url: '', lineNumber: -1 } },
    ],
    samples: [2, 2, 3, 4],
    timeDeltas: [10, 10, 10, 10],
  };
  const { total, functions, modules } = selfTimes(profile);
  t.equal(total, 0.04);
  t.equal(functions[0]?.name, 'deliver');
  t.equal(functions[0]?.module, 'aedes');
  t.equal(functions[0]?.location, 'aedes/lib/client.js:10');
  t.equal(modules.find((m) => m.module === 'ways-edge src/uplink/outbox.ts')?.selfMs, 0.01);
  const cut = sliceProfile(profile, 1_025, 1_045);
  t.same(cut?.samples, [3, 4], 'samples at t=1030 and t=1040');
  t.equal(sliceProfile(profile, 5_000, 6_000), undefined);
  t.equal(moduleOf('node:internal/stream_base_commons'), 'node:internal');
  t.equal(moduleOf('file:///a/node_modules/@koa/router/lib/router.js'), '@koa/router');
});

t.test('the results table: the bare aedes columns appear only when a row has aedes, with the ratio gateway/aedes', async (t) => {
  const two = new Report();
  two.add({ scenario: 's', metric: 'cpu', unit: 'µs', mosquitto: 10, gateway: 25 });
  const plain = two.markdown().split('\n');
  t.equal(plain[0], '| scenario | metric | mosquitto | ways-edge | gw / mosq | target | met |');
  t.equal(plain[2], '| s | cpu | 10.0 µs | 25.0 µs | 2.50× |  |  |');

  const three = new Report();
  three.add({ scenario: 's', metric: 'cpu', unit: 'µs', mosquitto: 10, gateway: 25, aedes: 12.5, target: '≤ 1.5× mosquitto', met: false });
  three.add({ scenario: 's', metric: 'cpu %', unit: '% core', mosquitto: 80, gateway: 100, aedes: 90, ratio: false });
  three.add({ scenario: 's', metric: 'rate', unit: 'conn/s', mosquitto: 700, gateway: 500 });
  const lines = three.markdown().split('\n');
  t.equal(lines[0], '| scenario | metric | mosquitto | bare aedes | ways-edge | gw / mosq | gw / aedes | target | met |');
  t.equal(lines[2], '| s | cpu | 10.0 µs | 12.5 µs | 25.0 µs | 2.50× | 2.00× | ≤ 1.5× mosquitto | **no** |');
  t.equal(lines[3], '| s | cpu % | 80.0 % core | 90.0 % core | 100 % core |  |  |  |  |', 'no ratios where the row has none');
  t.equal(lines[4], '| s | rate | 700 conn/s | — | 500 conn/s | 0.71× |  |  |  |', 'a row without aedes has no gw/aedes ratio');
});

t.test('bench options: --gateway-env is repeatable and keeps a full run off docs/BENCHMARKS.md', async (t) => {
  const plain = parseSettings([], {});
  t.same(plain.gatewayEnv, {});
  t.equal(plain.bareAedes, true);
  t.equal(plain.writeDocs, true, 'a full run writes the document');
  const experiment = parseSettings(['--gateway-env', 'WAYS_EDGE_CLOUD_URL=', '--gateway-env', 'NODE_OPTIONS=--max-semi-space-size=64', '--no-aedes']);
  t.same(experiment.gatewayEnv, { WAYS_EDGE_CLOUD_URL: '', NODE_OPTIONS: '--max-semi-space-size=64' });
  t.equal(experiment.bareAedes, false);
  t.equal(experiment.writeDocs, false, 'an experiment does not replace the recorded table');
  t.throws(() => parseSettings(['--gateway-env', 'NOEQUALS']), /NAME=VALUE/);
});

t.test('bench options: node flags and a stdout file for the gateways come from the environment', async (t) => {
  const plain = parseSettings([], {});
  t.same(plain.gatewayNodeArgs, []);
  t.equal(plain.gatewayStdoutFile, undefined);
  const traced = parseSettings([], { BENCH_GATEWAY_NODE_ARGS: '--trace-gc  --trace-gc-nvp', BENCH_GATEWAY_STDOUT: '/tmp/gc.txt' });
  t.same(traced.gatewayNodeArgs, ['--trace-gc', '--trace-gc-nvp'], 'split on spaces');
  t.equal(traced.gatewayStdoutFile, '/tmp/gc.txt');
  t.equal(traced.writeDocs, false, 'a run with extra node flags does not replace the recorded table');
});

t.test('heap profile: bytes allocated per function and per module, from the whole call tree', async (t) => {
  const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });
  const node = (callFrame: ReturnType<typeof frame>, selfSize: number, children: HeapProfileNode[] = []): HeapProfileNode => ({ callFrame, selfSize, children });
  const stage = frame('stage', 'file:///app/dist/src/uplink/outbox.js', 188);
  const profile = {
    head: node(frame('(root)', ''), 0, [
      node(frame('debug', 'file:///app/node_modules/debug/src/common.js', 65), 600),
      node(frame('accept', 'file:///app/dist/src/broker/intake.js', 23), 100, [node(stage, 200)]),
      node(frame('flush', 'file:///app/dist/src/store/group-commit.js', 10), 0, [node(stage, 100)]),
    ]),
  };
  const summary = allocations(profile);
  t.equal(summary.totalBytes, 1000, 'every node\'s own bytes, once');
  t.same(summary.functions.map((f) => [f.name, f.bytes, f.location]), [
    ['debug', 600, 'debug/src/common.js:66'],
    ['stage', 300, 'src/uplink/outbox.js:189'],
    ['accept', 100, 'src/broker/intake.js:24'],
  ], 'one function reached by two paths is one site; sorted by bytes');
  t.equal(summary.functions[0]?.percent, 60);
  t.same(summary.modules.map((m) => [m.module, m.bytes]), [['debug', 600], ['ways-edge src/uplink/outbox.ts', 300], ['ways-edge src/broker/intake.ts', 100]]);
});
