import type { MqttClient } from 'mqtt';
import { spawnGateway, type SpawnedGateway } from '../../helpers/spawn.js';
import { apiClient } from '../../helpers/http.js';
import { registerDevice, type RegisteredDevice } from '../../helpers/devices.js';
import type { TestCloud } from '../../uplink/helpers/cloud.js';
import { connectDevice, telemetry } from '../../uplink/helpers/devices.js';
import { Rng } from './fuzz.js';

/** Publishes each device keeps in flight. */
const WINDOW = 10;

export interface CrashLoopOptions {
  dataDir: string;
  cloud: TestCloud;
  /** The gateway's id at the cloud (its cloud username). */
  gatewayId: string;
  devices: number;
  seed: number;
  /** A kill comes after this many acknowledgements in a round, chosen at random in [min, max). */
  killAfterAcks: [number, number];
  env?: Record<string, string>;
}

export interface RoundReport {
  round: number;
  /** Acknowledged in this round, and sent but not acknowledged when the gateway died. */
  acked: number;
  inFlight: number;
  /** Per device: /usage messages_in after the restart vs acknowledged so far (cumulative). */
  countedOk: boolean;
  detail: string;
}

/**
 * kill -9 at random points of a QoS 1 load, again and again: devices publish numbered telemetry with a
 * window of unacknowledged messages; once a random number of acknowledgements came in, the gateway is
 * killed with SIGKILL and started again on the same data directory. After every restart every
 * acknowledged message must be counted in /usage; at the end every one must be at the cloud.
 */
export class CrashLoop {
  /** Per device, the numbers the gateway acknowledged (never re-sent: a new number after a failure). */
  readonly acked = new Map<string, number[]>();
  readonly sent = new Map<string, number>();
  kills = 0;
  private readonly rng: Rng;
  private devices: RegisteredDevice[] = [];
  private next = new Map<string, number>();
  gw: SpawnedGateway | undefined;

  constructor(private readonly opts: CrashLoopOptions) {
    this.rng = new Rng(opts.seed);
  }

  private env(): Record<string, string> {
    const { cloud, gatewayId } = this.opts;
    return {
      WAYS_EDGE_CLOUD_URL: cloud.url, WAYS_EDGE_CLOUD_USERNAME: gatewayId, WAYS_EDGE_CLOUD_BATCH_MAX_AGE_MS: '50',
      WAYS_EDGE_CLOUD_RECONNECT_MIN_MS: '50', WAYS_EDGE_CLOUD_RECONNECT_MAX_MS: '300', WAYS_EDGE_MQTT_RATE_LIMIT: '0',
      WAYS_EDGE_DISCOVERY_ENABLED: 'false', ...this.opts.env,
    };
  }

  /** Starts the gateway (registering the devices the first time). */
  async start(): Promise<SpawnedGateway> {
    const gw = await spawnGateway(this.opts.dataDir, this.env());
    this.gw = gw;
    if (this.devices.length === 0) {
      const api = apiClient(`https://127.0.0.1:${gw.apiPort}`, gw.caPem(), gw.adminKey());
      for (let i = 0; i < this.opts.devices; i++) {
        const d = await registerDevice(api, `crash-${i}`);
        this.devices.push(d);
        this.acked.set(d.device_id, []);
        this.sent.set(d.device_id, 0);
        this.next.set(d.device_id, 0);
      }
      await api.close();
    }
    return gw;
  }

  /** One round: load until a random number of acknowledgements, then SIGKILL; restart and check /usage. */
  async round(): Promise<RoundReport> {
    const gw = this.gw ?? await this.start();
    const [min, max] = this.opts.killAfterAcks;
    const killAt = min + this.rng.int(max - min);
    const clients: MqttClient[] = await Promise.all(this.devices.map((d) => connectDevice(gw.mqttPort, gw.caPem(), d)));
    for (const c of clients) c.on('error', () => undefined);
    let ackedThisRound = 0;
    let sentThisRound = 0;
    let killed: Promise<void> | undefined;
    let running = true;
    const kill = (): void => {
      if (killed) return;
      killed = gw.kill9().then(() => { running = false; for (const c of clients) c.end(true); });
    };
    await Promise.all(clients.map((c, i) => new Promise<void>((resolve) => {
      const d = this.devices[i] as RegisteredDevice;
      const topic = `devices/${d.device_id}/telemetry`;
      let inflight = 0;
      const pump = (): void => {
        while (running && inflight < WINDOW) {
          const n = this.next.get(d.device_id) as number;
          this.next.set(d.device_id, n + 1);
          this.sent.set(d.device_id, (this.sent.get(d.device_id) as number) + 1);
          sentThisRound += 1;
          inflight += 1;
          c.publish(topic, telemetry(n), { qos: 1 }, (err) => {
            inflight -= 1;
            if (!err) {
              this.acked.get(d.device_id)?.push(n);
              ackedThisRound += 1;
              if (ackedThisRound >= killAt) kill();
            }
            if (running) pump();
            else if (inflight === 0) resolve();
          });
        }
        if (!running && inflight === 0) resolve();
      };
      pump();
    })));
    await killed;
    this.kills += 1;
    const round = this.kills;
    // The store must open after every kill, and count every message acknowledged before it.
    const next = await this.start();
    const api = apiClient(`https://127.0.0.1:${next.apiPort}`, next.caPem(), next.adminKey());
    const problems: string[] = [];
    for (const d of this.devices) {
      const usage = (await api.get<{ totals: { messages_in: number } }>(`/v1/iot/usage?device_id=${d.device_id}`)).body.totals;
      const acked = (this.acked.get(d.device_id) as number[]).length;
      const sent = this.sent.get(d.device_id) as number;
      if (usage.messages_in < acked || usage.messages_in > sent) problems.push(`${d.device_id}: ${usage.messages_in} counted, ${acked} acknowledged, ${sent} sent`);
    }
    await api.close();
    return {
      round, acked: ackedThisRound, inFlight: sentThisRound - ackedThisRound, countedOk: problems.length === 0,
      detail: problems.length === 0 ? `killed after ${ackedThisRound} acknowledgements (${sentThisRound - ackedThisRound} in flight); every acknowledged message counted after the restart` : problems.join('; '),
    };
  }

  /** Every acknowledged message is at the cloud (after de-duplication); resolves or throws after `timeoutMs`. */
  async allAtCloud(timeoutMs: number): Promise<void> {
    const cloud = this.opts.cloud;
    const expected = new Set([...this.acked].flatMap(([d, ns]) => ns.map((n) => `${d}|${n}`)));
    await cloud.until(() => {
      const have = new Set(cloud.unique().map((m) => `${m.device_id}|${(m.json as { n: number }).n}`));
      for (const k of expected) if (!have.has(k)) return false;
      return true;
    }, timeoutMs, `every acknowledged message (${expected.size}) at the cloud`);
  }

  get ackedTotal(): number { return [...this.acked.values()].reduce((a, l) => a + l.length, 0); }
}
