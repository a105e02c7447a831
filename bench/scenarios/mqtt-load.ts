/**
 * Scenarios 1 and 2 (and the steady part of 4): 50 devices → 1 application subscriber over TLS,
 * the brokers measured one after the other in alternating order, medians of the repetitions.
 *   - throughput at QoS 0 and QoS 1, full speed;
 *   - publish→deliver latency at QoS 1 paced at 5,000 msg/s in total;
 *   - for the gateway: messages/s that reach the cloud broker through the uplink (in every window's
 *     log line, so a window whose uplink fell behind shows; the ingest row is the QoS 1 one). The
 *     uplink's default pace (100 publishes/s of 2,000 messages) caps it near 200,000 msg/s.
 * Bare aedes, when the run has it, takes its turn in the rotation like the other two.
 */
import { sleep, type Ctx } from '../lib/context.js';
import { rssKb } from '../lib/proc.js';
import type { Label, Rig, WindowOptions, WindowResult } from '../lib/rig.js';
import { columns, fmtNumber, type Columns } from '../lib/report.js';
import { median } from '../lib/stats.js';
import type { Worker } from '../lib/workers.js';
import os from 'node:os';
import { measureSyncedBatches } from '../lib/disk-sync.js';
import { untilStable } from '../lib/until-stable.js';

export interface CloudProbe { worker: Worker; pid: () => number }

type Results = Map<string, WindowResult[]>;

function key(label: string, kind: string): string { return `${label}/${kind}`; }

function push(results: Results, k: string, r: WindowResult): void {
  const list = results.get(k) ?? [];
  list.push(r);
  results.set(k, list);
}

function med(results: Results, k: string, pick: (r: WindowResult) => number | undefined): number | undefined {
  const list = results.get(k);
  if (!list || list.length === 0) return undefined;
  return median(list.map((r) => pick(r) ?? NaN));
}

/** Notes when the generator or the machine, not the broker, may have been the limit. */
function checkGenerator(ctx: Ctx, label: string, kind: string, r: WindowResult): void {
  const cores = os.availableParallelism();
  if (r.generatorMaxPct >= 90) {
    ctx.report.note(`${kind} on ${label}: one generator process ran at ${r.generatorMaxPct.toFixed(0)}% of a core — the generator, not the broker, may have set the pace (throughput is then a lower bound; CPU per message is still valid).`);
  }
  if (r.brokerCpuPct + r.generatorCpuPct >= 0.95 * 100 * cores) {
    ctx.report.note(`${kind} on ${label}: broker ${r.brokerCpuPct.toFixed(0)}% + generators ${r.generatorCpuPct.toFixed(0)}% of a core saturated the ${cores} cores; the broker competed with the load generator (CPU per message is the stable figure).`);
  }
}

function describe(r: WindowResult): string {
  const lat = r.latency ? `, p50 ${r.latency.p50.toFixed(2)} ms p99 ${r.latency.p99.toFixed(2)} ms` : '';
  const cloud = r.cloudRate !== undefined ? `, cloud ${fmtNumber(r.cloudRate)}/s` : '';
  const wait = r.mainWaitPct !== undefined ? ` (main thread waited for a CPU ${r.mainWaitPct.toFixed(1)}%)` : '';
  return `${fmtNumber(r.rate)} msg/s, ${r.cpuUsPerMsg.toFixed(2)} µs/msg, broker ${r.brokerCpuPct.toFixed(0)}%${wait}, generators ${r.generatorCpuPct.toFixed(0)}% (max ${r.generatorMaxPct.toFixed(0)}%), RSS max ${(r.maxRssKb / 1024).toFixed(0)} MB${lat}${cloud}; other processes ${r.otherCpuPct.toFixed(0)}%`;
}

/**
 * Waits until the gateway's uplink has sent what the window left in its outbox (the cloud's count of
 * messages stops growing), so that no window starts with the previous one's backlog: a backlog beyond
 * the outbox's in-memory entries makes the uplink read from disk, which costs more per message.
 */
async function uplinkDrained(ctx: Ctx, cloud: CloudProbe, kind: string): Promise<void> {
  const count = async (): Promise<number> => (await cloud.worker.call({ op: 'cloud-count' })).unique;
  const t0 = performance.now();
  const first = await count();
  const last = await untilStable(count, 500, 60_000);
  if (last > first) ctx.log(`  ${kind.padEnd(7)} uplink drained ${fmtNumber(last - first)} more messages in ${((performance.now() - t0) / 1000).toFixed(1)} s after the window`);
}

export async function mqttLoad(ctx: Ctx, rigs: readonly Rig[], cloud: CloudProbe | undefined): Promise<void> {
  const s = ctx.settings;
  const results: Results = new Map();
  const base = { warmupMs: s.warmupMs, window: s.qos1Window, payloadBytes: s.payloadBytes, credit: s.credit };
  const kinds: Array<{ kind: string; enabled: boolean; opts: Omit<WindowOptions, 'cloud'> }> = [
    { kind: 'qos0', enabled: s.only.has('throughput'), opts: { ...base, qos: 0, rate: 0, durationMs: s.throughputMs } },
    { kind: 'qos1', enabled: s.only.has('throughput') || s.only.has('ingest'), opts: { ...base, qos: 1, rate: 0, durationMs: s.throughputMs } },
    { kind: 'latency', enabled: s.only.has('latency'), opts: { ...base, qos: 1, rate: s.latencyRate, durationMs: s.latencyMs, latency: true } },
    { kind: 'latency0', enabled: s.only.has('latency'), opts: { ...base, qos: 0, rate: s.latencyRate, durationMs: s.latency0Ms, latency: true } },
  ];
  if (!s.only.has('throughput')) {
    // Without the full-speed windows first, the paced window would meet a cold gateway (no JIT yet)
    // and measure its warm-up: one unmeasured full-speed burst per broker stands in for them.
    for (const rig of rigs) await rig.measure({ ...base, qos: 1, rate: 0, durationMs: s.warmupMs * 2 });
  }
  for (let rep = 0; rep < s.reps; rep++) {
    for (const { kind, enabled, opts } of kinds) {
      if (!enabled) continue;
      // Rotate which broker goes first, so a drift of the machine does not favour one.
      const shift = (rep + kinds.findIndex((k) => k.kind === kind)) % rigs.length;
      const order = [...rigs.slice(shift), ...rigs.slice(0, shift)];
      for (const rig of order) {
        const label = rig.target.label;
        const withCloud = label === 'ways-edge' && cloud ? { cloud } : {};
        const r = await rig.measure({ ...opts, ...withCloud });
        if (label === 'ways-edge' && cloud) await uplinkDrained(ctx, cloud, kind);
        push(results, key(label, kind), r);
        checkGenerator(ctx, label, kind, r);
        ctx.log(`  ${kind.padEnd(7)} rep ${rep + 1}/${s.reps} ${label.padEnd(9)} ${describe(r)}`);
      }
    }
  }
  rows(ctx, results);
  await rssAfterLoad(ctx, rigs);
  if (results.has(key('mosquitto', 'qos1'))) {
    ctx.report.note('mosquitto runs with max_inflight_messages 0 (see "How it measures"): on 2.0.11 its RSS then grows by about 0.5 KB per QoS 1 message delivered and is not given back, which is what its "broker RSS, max" rows show after the first QoS 1 window; with the default window of 20 it stays at 12 MB but QoS 1 delivery stalls (inflight-quota bugs fixed in mosquitto 2.0.13).');
  }
  const other = [...results.values()].flat().map((r) => r.otherCpuPct);
  if (other.length > 0) {
    const worst = Math.max(...other);
    ctx.report.note(`Noise: during the MQTT windows, processes other than the brokers and the bench used a median ${median(other).toFixed(0)}% (max ${worst.toFixed(0)}%) of one core${worst > 20 ? ' — other work on the machine competed with the measurement' : ''}.`);
  }
}

/**
 * What the windows leave behind: each broker's RSS once it has been idle for a while after them (V8's
 * heap and malloc's arenas keep some of what the load used; the malloc settings of the systemd unit
 * decide how much).
 */
const SETTLE_AFTER_LOAD_MS = 10_000;

async function rssAfterLoad(ctx: Ctx, rigs: readonly Rig[]): Promise<void> {
  await sleep(SETTLE_AFTER_LOAD_MS);
  const rssMb = (label: Label): number | undefined => {
    const rig = rigs.find((r) => r.target.label === label);
    return rig ? rssKb(rig.target.pid()) / 1024 : undefined;
  };
  ctx.report.add({ scenario: '1./2. after the MQTT windows', metric: `broker RSS after ${SETTLE_AFTER_LOAD_MS / 1000} s idle`, unit: 'MB', ...columns(rssMb) });
}

function rows(ctx: Ctx, res: Results): void {
  const { report } = ctx;
  const s = ctx.settings;
  /** The medians of every broker measured, as a row's columns. */
  const both = (kind: string, pick: (r: WindowResult) => number | undefined): Columns => columns((label) => med(res, key(label, kind), pick));
  for (const [kind, title] of [['qos0', 'QoS 0'], ['qos1', 'QoS 1']] as const) {
    if (!res.has(key('mosquitto', kind)) && !res.has(key('ways-edge', kind))) continue;
    const sc = `1. throughput ${title}, ${s.devices}→1, ${s.payloadBytes} B, full speed`;
    report.add({ scenario: sc, metric: 'delivered', unit: 'msg/s', ...both(kind, (r) => r.rate) });
    const cpu = both(kind, (r) => r.cpuUsPerMsg);
    report.add({
      scenario: sc, metric: 'broker CPU per delivered msg', unit: 'µs', ...cpu, target: '≤ 1.5× mosquitto',
      ...(cpu.gateway !== undefined && cpu.mosquitto !== undefined ? { met: cpu.gateway <= 1.5 * cpu.mosquitto } : {}),
    });
    report.add({ scenario: sc, metric: 'broker CPU', unit: '% core', ...both(kind, (r) => r.brokerCpuPct), ratio: false });
    report.add({ scenario: sc, metric: 'generator CPU (all processes)', unit: '% core', ...both(kind, (r) => r.generatorCpuPct), ratio: false });
    report.add({ scenario: sc, metric: 'broker RSS, max', unit: 'MB', ...both(kind, (r) => r.maxRssKb / 1024) });
    if (kind === 'qos1' && res.get(key('ways-edge', kind))?.[0]?.cloudRate !== undefined) {
      report.add({ scenario: '4. ingest to cloud (uplink, same QoS 1 load)', metric: 'reaching the cloud broker', unit: 'msg/s', gateway: med(res, key('ways-edge', kind), (r) => r.cloudRate) as number });
      report.add({ scenario: '4. ingest to cloud (uplink, same QoS 1 load)', metric: 'cloud broker CPU', unit: '% core', gateway: med(res, key('ways-edge', kind), (r) => r.cloudCpuPct) as number });
    }
  }
  if (res.has(key('mosquitto', 'latency')) || res.has(key('ways-edge', 'latency'))) {
    const sc = `2. latency QoS 1, ${fmtNumber(s.latencyRate)} msg/s paced`;
    report.add({ scenario: sc, metric: 'delivered', unit: 'msg/s', ...both('latency', (r) => r.rate), ratio: false });
    report.add({ scenario: sc, metric: 'publish→deliver p50', unit: 'ms', ...both('latency', (r) => r.latency?.p50) });
    report.add({ scenario: sc, metric: 'publish→deliver p95', unit: 'ms', ...both('latency', (r) => r.latency?.p95) });
    const p99 = both('latency', (r) => r.latency?.p99);
    report.add({ scenario: sc, metric: 'publish→deliver p99', unit: 'ms', ...p99, target: '< 3 ms', ...(p99.gateway !== undefined ? { met: p99.gateway < 3 } : {}) });
    report.add({ scenario: sc, metric: 'broker CPU per delivered msg', unit: 'µs', ...both('latency', (r) => r.cpuUsPerMsg) });
    report.add({ scenario: sc, metric: 'broker main thread runnable but waiting for a CPU', unit: '% of window', ...both('latency', (r) => r.mainWaitPct), ratio: false });
  }
  if (res.has(key('mosquitto', 'latency0')) || res.has(key('ways-edge', 'latency0'))) {
    const sc = `2b. latency QoS 0, ${fmtNumber(s.latencyRate)} msg/s paced (no durable write before delivery)`;
    report.add({ scenario: sc, metric: 'publish→deliver p50', unit: 'ms', ...both('latency0', (r) => r.latency?.p50) });
    report.add({ scenario: sc, metric: 'publish→deliver p99', unit: 'ms', ...both('latency0', (r) => r.latency?.p99) });
    report.add({ scenario: sc, metric: 'broker CPU per delivered msg', unit: 'µs', ...both('latency0', (r) => r.cpuUsPerMsg) });
    report.add({ scenario: sc, metric: 'broker main thread runnable but waiting for a CPU', unit: '% of window', ...both('latency0', (r) => r.mainWaitPct), ratio: false });
  }
}

/**
 * A device's QoS 1 PUBACK waits for the synced batch holding its message (the message itself is
 * routed at once, src/broker/puback-gate.ts): the disk's sync time is the floor of publish→PUBACK.
 * Measured with nothing else running, on the filesystem of the gateway's data directory.
 */
export async function diskFloor(ctx: Ctx, dir: string): Promise<void> {
  const t = await measureSyncedBatches(dir, ctx.settings.quick ? 1_500 : 4_000);
  ctx.log(`  disk: ${t.n} synced LevelDB batches, p50 ${t.p50.toFixed(2)} ms, p99 ${t.p99.toFixed(2)} ms, max ${t.max.toFixed(1)} ms`);
  const sc = `2. latency QoS 1, ${fmtNumber(ctx.settings.latencyRate)} msg/s paced`;
  ctx.report.add({ scenario: sc, metric: 'floor: a synced LevelDB batch on this disk, p50', unit: 'ms', gateway: t.p50 });
  ctx.report.add({ scenario: sc, metric: 'floor: a synced LevelDB batch on this disk, p99', unit: 'ms', gateway: t.p99 });
}
