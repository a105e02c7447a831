import t from 'tap';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { spawnGateway } from '../helpers/spawn.js';
import { removeDir, tempDir } from '../helpers/gateway.js';
import { apiClient } from '../helpers/http.js';
import { registerDevice, type RegisteredDevice } from '../helpers/devices.js';
import { loadCorpus, type CorpusSequence } from './helpers/corpus.js';
import { replayPreConnect, replaySequence, STEP_TIMEOUT_MS, type PreConnectResult, type ReplayResult } from './helpers/replay.js';
import { REASONS, TOLERATED, reasonFor, type Reason } from './helpers/classify.js';
import { Heartbeat, formatHeartbeat } from './helpers/heartbeat.js';
import { pool } from './helpers/raw.js';
import { mb, PeakSampler, rssOf } from './helpers/process.js';

/** Sockets replaying at once. */
const CONCURRENCY = 8;
/** A bad connection must be closed within this long after its last byte. */
const CLOSE_WITHIN_MS = 2_000;

t.test('the mosquitto corpus (MQTT 3.1/3.1.1) against the TLS listener: the gateway stays up, closes bad connections, keeps serving', async (t) => {
  const corpus = loadCorpus();
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  const gw = await spawnGateway(dir, {});
  t.teardown(() => gw.kill9());
  const pid = gw.child.pid;
  const caPem = gw.caPem();
  const target = { port: gw.mqttPort, caPem };
  const api = apiClient(`https://127.0.0.1:${gw.apiPort}`, caPem, gw.adminKey());
  t.teardown(() => api.close());

  // One device per replaying socket (a shared client id would take the other socket's session over),
  // one for the heartbeat, and an application for the corpus' helper publishes.
  const devices: RegisteredDevice[] = [];
  for (let i = 0; i < CONCURRENCY; i++) devices.push(await registerDevice(api, `corpus-${i}`));
  const heartbeatDevice = await registerDevice(api, 'corpus-heartbeat');
  const key = (await api.post<{ key: string }>('/v1/iot/keys', { name: 'corpus-helper', scopes: ['mqtt'] })).body.key;
  const app = await mqtt.connectAsync({
    host: '127.0.0.1', port: target.port, protocol: 'mqtts', ca: caPem, servername: 'localhost', reconnectPeriod: 0,
    username: 'app:corpus-helper', password: key, clientId: 'corpus-helper',
  });
  app.on('error', () => undefined);
  t.teardown(() => app.endAsync(true));
  const externalPublish = async (topic: string, payload: Buffer, qos: 0 | 1 | 2): Promise<void> => { await app.publishAsync(topic, payload, { qos }); };

  const rssStart = rssOf(pid);
  const rssPeak = new PeakSampler(() => rssOf(pid));
  const heartbeat = new Heartbeat(target, heartbeatDevice);
  await heartbeat.start();

  const t0 = performance.now();
  const replayed = await pool(corpus.sequences, CONCURRENCY, (seq, worker) => replaySequence(seq, { target, device: devices[worker] as RegisteredDevice, externalPublish }));
  const replayMs = performance.now() - t0;
  // The same bytes again, first thing on a fresh connection: nothing adapted, no CONNECT before them.
  const preConnectable = corpus.sequences.filter((s) => s.msgs.some((m) => m.type === 'send'));
  const t1 = performance.now();
  const pre = await pool(preConnectable, CONCURRENCY, (seq) => replayPreConnect(seq, target));
  const preMs = performance.now() - t1;

  const beat = await heartbeat.stop();
  const peak = rssPeak.stop();
  const rssEnd = rssOf(pid);

  // --- judge -----------------------------------------------------------------------------------
  t.equal(gw.child.exitCode, null, 'the gateway never exited');
  t.equal(gw.child.signalCode, null);
  t.equal((await api.get('/readyz')).status, 200, 'and is still ready');

  const bySeq = new Map<string, CorpusSequence>(corpus.sequences.map((s) => [s.id, s]));
  const differing = replayed.filter((r) => !r.matched).map((r) => ({ r, reason: reasonFor(bySeq.get(r.id) as CorpusSequence, r) }));
  const unexplained = differing.filter((d) => d.reason === undefined);
  t.same(unexplained.map((d) => `${d.r.id}: ${d.r.difference}`), [], 'every difference from the corpus has a reason');

  const staysOpen = replayed.filter((r) => {
    const seq = bySeq.get(r.id) as CorpusSequence;
    const reason = differing.find((d) => d.r === r)?.reason;
    return seq.expectDisconnect && !(reason && TOLERATED.has(reason)) && !(r.closed && (r.closeMs ?? Infinity) <= CLOSE_WITHIN_MS);
  });
  t.same(staysOpen.map((r) => `${r.id}: ${r.difference ?? ''}`), [], `every bad connection was closed within ${CLOSE_WITHIN_MS} ms`);
  const slowest = Math.max(0, ...replayed.filter((r) => r.closed).map((r) => r.closeMs ?? 0));

  const preBad = pre.filter((p) => !p.closed || (p.closeMs ?? Infinity) > CLOSE_WITHIN_MS || p.accepted || (p.got !== '' && !/^20 02 00 0[1-5]$/.test(p.got)));
  t.same(preBad, [], `before CONNECT: every sequence closed within ${CLOSE_WITHIN_MS} ms, answered with at most a refusing CONNACK`);

  t.equal(beat.failed, 0, 'the heartbeat device never lost its connection');
  t.ok(beat.acked >= 20, `the heartbeat device kept publishing QoS 1 throughout: ${formatHeartbeat(beat)}`);
  t.ok(beat.p99 < 1_000, 'with p99 publish→PUBACK under 1 s');

  const report = corpusReport({ corpus: corpus.sequences, skippedV5: corpus.skippedV5, replayed, differing, pre, replayMs, preMs, slowest, beat: formatHeartbeat(beat), rss: { start: rssStart, peak, end: rssEnd } });
  const file = path.join(os.tmpdir(), `ways-edge-corpus-report-${process.pid}.md`);
  writeFileSync(file, report);
  t.comment(`report written to ${file}\n${report}`);
});

interface ReportInput {
  corpus: CorpusSequence[];
  skippedV5: { groups: number; sequences: number };
  replayed: ReplayResult[];
  differing: Array<{ r: ReplayResult; reason: Reason | undefined }>;
  pre: PreConnectResult[];
  replayMs: number;
  preMs: number;
  slowest: number;
  beat: string;
  rss: { start: number; peak: number; end: number };
}

/** The replay's outcome as Markdown (pasted into docs/RELIABILITY.md). */
function corpusReport(x: ReportInput): string {
  const matched = x.replayed.filter((r) => r.matched).length;
  const v3 = x.corpus.filter((s) => s.ver === 3).length;
  const lines = [
    `### Corpus replay (${new Date().toISOString().slice(0, 10)})`,
    '',
    `- Sequences: ${x.corpus.length} MQTT 3.1/3.1.1 (${v3} at level 3, ${x.corpus.length - v3} at level 4); ${x.skippedV5.sequences} MQTT 5 sequences in ${x.skippedV5.groups} groups skipped (aedes 1.x does not speak MQTT 5).`,
    `- As the corpus expects (every expected packet byte for byte, and the disconnect expectation): **${matched} of ${x.replayed.length}**; differ: ${x.replayed.length - matched}, each with a reason below.`,
    `- Bad connections (the corpus expects a disconnect) closed within ${CLOSE_WITHIN_MS} ms: all but the tolerated ones below; slowest close ${x.slowest} ms after the last byte.`,
    `- Before CONNECT (each sequence's bytes first thing on a fresh connection, ${x.pre.length} sequences with bytes to send): ${x.pre.filter((p) => p.closed).length} closed, slowest ${Math.max(0, ...x.pre.map((p) => p.closeMs ?? 0))} ms; ${x.pre.filter((p) => p.got !== '').length} answered with a refusing CONNACK first, ${x.pre.filter((p) => p.accepted).length} accepted.`,
    `- Heartbeat device during the replay: ${x.beat}.`,
    `- Gateway RSS: ${mb(x.rss.start)} before, ${mb(x.rss.peak)} peak, ${mb(x.rss.end)} after. Replay ${(x.replayMs / 1000).toFixed(1)} s, pre-CONNECT pass ${(x.preMs / 1000).toFixed(1)} s, ${CONCURRENCY} sockets at a time (a step waits at most ${STEP_TIMEOUT_MS} ms).`,
    '',
    '| reason | sequences |',
    '|---|---|',
  ];
  const byReason = new Map<string, string[]>();
  for (const d of x.differing) {
    const key = d.reason ?? 'unexplained';
    byReason.set(key, [...(byReason.get(key) ?? []), d.r.id]);
  }
  for (const [reason, ids] of byReason) {
    const text = reason in REASONS ? REASONS[reason as Reason] : 'UNEXPLAINED';
    lines.push(`| ${text} | ${ids.length}: ${ids.map((id) => id.replace(/^[A-Z]+\.json › /, '').replace(/\|/g, '\\|')).join('; ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
