/**
 * A broker under test with its load: generator processes holding the publishing devices and one
 * subscriber process holding the application client. `measure()` runs one measurement window:
 * start publishing, warm up, snapshot counters and /proc, wait, snapshot again, stop, and wait for
 * the deliveries to settle so the next window starts clean.
 */
import { cpuSeconds, cpuSecondsOf, machineBusySeconds, rssKb, runQueueWaitSeconds } from './proc.js';
import type { BrokerAddress } from './lean-mqtt.js';
import { nowUs } from './payload.js';
import type { DeviceCredential } from './protocol.js';
import type { LatencySummary } from './stats.js';
import { split, Worker, WorkerPool } from './workers.js';
import { untilStable } from './until-stable.js';

/** The brokers of a run: mosquitto, the gateway, and bare aedes as the reference of what aedes and Node cost alone. */
export type Label = 'mosquitto' | 'ways-edge' | 'aedes';

/** Short process-name part per broker. */
export const SHORT_LABEL: Record<Label, string> = { mosquitto: 'mosq', 'ways-edge': 'gw', aedes: 'aedes' };

export interface AppLogin { clientId: string; username: string; password: string }

export interface BrokerTarget {
  label: Label;
  /** PID of the broker process (its CPU and RSS are what is measured). */
  pid: () => number;
  broker: BrokerAddress;
  app: AppLogin;
}

export interface WindowOptions {
  qos: 0 | 1;
  /** Messages/s in total; 0 = full speed. */
  rate: number;
  warmupMs: number;
  durationMs: number;
  window: number;
  payloadBytes: number;
  latency?: boolean;
  /**
   * Full speed only: messages that may be on their way from the publishers to the subscriber at
   * once, over all devices (end-to-end credit). Without it, a broker that acknowledges faster than it
   * delivers builds an internal backlog (or drops QoS 0), and the window measures that instead of
   * the rate it can sustain. Absent = open loop (the flood).
   */
  credit?: number;
  /** Wait for deliveries to settle after the window (default true; the flood's backlog never settles). */
  settle?: boolean;
  /** Also count what reaches the cloud (the gateway's uplink) in the window. */
  cloud?: { worker: Worker; pid: () => number };
}

export interface WindowResult {
  delivered: number;
  seconds: number;
  /** Delivered messages per second. */
  rate: number;
  /** Broker CPU time per delivered message, µs. */
  cpuUsPerMsg: number;
  /** Broker CPU, % of one core. */
  brokerCpuPct: number;
  /** All generator processes together (publishers and subscriber), % of one core. */
  generatorCpuPct: number;
  /** The busiest single generator process, % of one core. */
  generatorMaxPct: number;
  maxRssKb: number;
  startRssKb: number;
  endRssKb: number;
  sent: number;
  acked: number;
  /** Paced mode: ticks where the generator could not send all that was due (window full or socket blocked). */
  blockedTicks: number;
  latency?: LatencySummary;
  cloudRate?: number;
  cloudCpuPct?: number;
  /** The measured window on the monotonic clock (µs), e.g. to cut a CPU profile to it. */
  windowStartUs: number;
  windowEndUs: number;
  /** Broker RSS every 250 ms from the start of publishing (kB). */
  rssSamplesKb: number[];
  /** CPU used by every other process on the machine during the window, % of one core (noise). */
  otherCpuPct: number;
  /**
   * Share of the window (%) the broker's main thread was runnable but waited for a CPU: time in
   * which its event loop could not run however little work was due. Undefined without schedstat.
   */
  mainWaitPct?: number;
}

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

export class Rig {
  readonly pubs: WorkerPool;
  readonly sub: Worker;

  constructor(readonly target: BrokerTarget, pubProcs: number) {
    const short = SHORT_LABEL[target.label];
    this.pubs = new WorkerPool(`gen-${short}`, pubProcs);
    this.sub = new Worker(`sub-${short}`);
  }

  /** The generator processes, and this one (it relays the end-to-end credit). */
  get generatorPids(): number[] { return [...this.pubs.pids, this.sub.pid, process.pid]; }

  /** Connects the subscriber (QoS 1 subscription: QoS 0 publishes still arrive at QoS 0) and the devices. */
  async connect(devices: readonly DeviceCredential[]): Promise<{ ms: number }> {
    const { broker, app } = this.target;
    await Promise.all([this.pubs.ready(), this.sub.call({ op: 'ping' })]);
    await this.sub.call({ op: 'connect-subscriber', broker, clientId: app.clientId, username: app.username, password: app.password, filter: 'devices/+/telemetry', qos: 1 });
    const t0 = performance.now();
    const parts = split(devices, this.pubs.workers.length);
    await this.pubs.all((w, i) => w.call({ op: 'connect-publishers', broker, devices: parts[i] ?? [], concurrency: 8 }));
    return { ms: performance.now() - t0 };
  }

  async disconnect(): Promise<void> {
    await this.pubs.all((w) => w.call({ op: 'disconnect-publishers' }));
    await this.sub.call({ op: 'disconnect-subscriber' });
  }

  async stop(): Promise<void> {
    await this.pubs.stop();
    await this.sub.stop();
  }

  async delivered(): Promise<number> {
    return (await this.sub.call({ op: 'count' })).received;
  }

  /** Waits until the subscriber's count has not moved for `quietMs` (bounded by `maxMs`). */
  quiesce(quietMs = 300, maxMs = 15_000): Promise<number> {
    return untilStable(() => this.delivered(), quietMs, maxMs);
  }

  /**
   * Relays the subscriber's progress to the publishers: each worker may have sent
   * (delivered since the start + credit) / workers. Runs until `state.running` is false.
   */
  private async creditLoop(state: { running: boolean }, base: number, credit: number): Promise<void> {
    const workers = this.pubs.workers.length;
    while (state.running) {
      const delivered = await this.delivered();
      const limit = Math.floor((delivered - base + credit) / workers);
      await this.pubs.all((w) => w.call({ op: 'allow', limit }));
      await sleep(1);
    }
  }

  async measure(o: WindowOptions): Promise<WindowResult> {
    const pid = this.target.pid();
    const gens = this.generatorPids;
    const startRssKb = rssKb(pid);
    let maxRssKb = startRssKb;
    const rssSamplesKb: number[] = [];
    const sampler = setInterval(() => {
      try {
        const kb = rssKb(pid);
        rssSamplesKb.push(kb);
        maxRssKb = Math.max(maxRssKb, kb);
      } catch { /* exited */ }
    }, 250);
    try {
      const workers = this.pubs.workers.length;
      const perWorker = o.rate / workers;
      const credit = o.rate === 0 ? o.credit : undefined;
      const base = credit !== undefined ? await this.delivered() : 0;
      const limit = credit !== undefined ? { limit: Math.floor(credit / workers) } : {};
      await this.pubs.all((w) => w.call({ op: 'publish', qos: o.qos, rate: perWorker, window: o.window, payloadBytes: o.payloadBytes, ...limit }));
      const loop = { running: true, done: Promise.resolve() };
      if (credit !== undefined) loop.done = this.creditLoop(loop, base, credit);
      await sleep(o.warmupMs);
      if (o.latency) await this.sub.call({ op: 'latency', on: true });
      const snap = async (): Promise<{ count: number; cloud: number; cpu: number; gen: number[]; cloudCpu: number; busy: number; wait: number | undefined; t: number }> => {
        const [count, cloud] = await Promise.all([this.delivered(), o.cloud ? o.cloud.worker.call({ op: 'cloud-count' }).then((c) => c.unique) : Promise.resolve(0)]);
        return {
          count, cloud, cpu: cpuSeconds(pid), gen: cpuSecondsOf(gens), cloudCpu: o.cloud ? cpuSecondsOf([o.cloud.pid()])[0] ?? 0 : 0,
          busy: machineBusySeconds(), wait: runQueueWaitSeconds(pid), t: performance.now() / 1000,
        };
      };
      const a = await snap();
      const windowStartUs = nowUs();
      await sleep(o.durationMs);
      const windowEndUs = nowUs();
      const b = await snap();
      const latency = o.latency ? await this.sub.call({ op: 'latency-report' }) : undefined;
      loop.running = false;
      await loop.done;
      const stops = await this.pubs.all((w) => w.call({ op: 'stop-publish', drainMs: 10_000 }));
      if (o.latency) await this.sub.call({ op: 'latency', on: false });
      if (o.settle !== false) await this.quiesce();
      const seconds = b.t - a.t;
      const delivered = b.count - a.count;
      const genDeltas = b.gen.map((v, i) => v - (a.gen[i] ?? 0));
      const ours = (b.cpu - a.cpu) + genDeltas.reduce((sum, v) => sum + v, 0) + (b.cloudCpu - a.cloudCpu);
      const result: WindowResult = {
        delivered,
        seconds,
        rate: delivered / seconds,
        cpuUsPerMsg: delivered > 0 ? ((b.cpu - a.cpu) * 1e6) / delivered : NaN,
        brokerCpuPct: (100 * (b.cpu - a.cpu)) / seconds,
        generatorCpuPct: (100 * genDeltas.reduce((s, v) => s + v, 0)) / seconds,
        generatorMaxPct: (100 * Math.max(...genDeltas)) / seconds,
        maxRssKb,
        startRssKb,
        endRssKb: rssKb(pid),
        sent: stops.reduce((s, r) => s + r.sent, 0),
        acked: stops.reduce((s, r) => s + r.acked, 0),
        blockedTicks: stops.reduce((s, r) => s + r.blockedTicks, 0),
        windowStartUs,
        windowEndUs,
        rssSamplesKb,
        otherCpuPct: Math.max(0, (100 * ((b.busy - a.busy) - ours)) / seconds),
        ...(a.wait !== undefined && b.wait !== undefined ? { mainWaitPct: (100 * (b.wait - a.wait)) / seconds } : {}),
        ...(latency ? { latency } : {}),
        ...(o.cloud ? { cloudRate: (b.cloud - a.cloud) / seconds, cloudCpuPct: (100 * (b.cloudCpu - a.cloudCpu)) / seconds } : {}),
      };
      return result;
    } finally {
      clearInterval(sampler);
    }
  }
}
