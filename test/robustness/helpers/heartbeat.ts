import mqtt, { type MqttClient } from 'mqtt';
import type { RegisteredDevice } from '../../helpers/devices.js';
import type { Target } from './raw.js';

export interface HeartbeatReport {
  /** Publishes acknowledged (PUBACK) / sent / failed (closed or errored before the PUBACK). */
  acked: number;
  sent: number;
  failed: number;
  /** publish → PUBACK in ms. */
  p50: number;
  p99: number;
  max: number;
  /** The payload numbers that were acknowledged (to look them up at the cloud or in /usage). */
  ackedNumbers: number[];
}

/** The p-th percentile (0..100) of `values` (nearest rank), 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** mqtt.js options of a registered device on the gateway's TLS listener (no reconnects: a failure shows). */
export function deviceClientOptions(target: Target, device: RegisteredDevice, extra: mqtt.IClientOptions = {}): mqtt.IClientOptions {
  const c = device.mqtt_credentials;
  return {
    host: target.host ?? '127.0.0.1', port: target.port, protocol: 'mqtts', ca: target.caPem, servername: 'localhost',
    username: c.username, password: c.password, clientId: c.client_id, reconnectPeriod: 0, connectTimeout: 10_000, protocolVersion: 4, ...extra,
  };
}

/**
 * A well-behaved device that keeps publishing QoS 1 telemetry while a test abuses the gateway: one
 * message in flight at a time, the next `intervalMs` after the previous PUBACK. `stop()` reports how
 * many were acknowledged and how long the acknowledgements took. A PUBACK that never comes shows as
 * `failed` (or, when the test ends, as sent but not acknowledged).
 */
export class Heartbeat {
  private client: MqttClient | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly latencies: number[] = [];
  private readonly acked: number[] = [];
  private sent = 0;
  private failed = 0;

  constructor(private readonly target: Target, private readonly device: RegisteredDevice, private readonly intervalMs = 25) {}

  async start(): Promise<void> {
    this.client = await mqtt.connectAsync(deviceClientOptions(this.target, this.device));
    this.client.on('error', () => undefined);
    this.running = true;
    this.loop = this.run(this.client);
  }

  /** Waits for the message in flight, disconnects, and reports. */
  async stop(): Promise<HeartbeatReport> {
    this.running = false;
    await this.loop;
    await this.client?.endAsync().catch(() => undefined);
    return {
      acked: this.acked.length, sent: this.sent, failed: this.failed,
      p50: percentile(this.latencies, 50), p99: percentile(this.latencies, 99), max: percentile(this.latencies, 100),
      ackedNumbers: [...this.acked],
    };
  }

  private async run(client: MqttClient): Promise<void> {
    const topic = `devices/${this.device.device_id}/telemetry`;
    let n = 0;
    while (this.running) {
      n += 1;
      this.sent += 1;
      const t0 = performance.now();
      try {
        await client.publishAsync(topic, Buffer.from(JSON.stringify({ n, heartbeat: true })), { qos: 1 });
        this.latencies.push(performance.now() - t0);
        this.acked.push(n);
      } catch {
        this.failed += 1;
        return;
      }
      if (this.intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
  }
}

export function formatHeartbeat(r: HeartbeatReport): string {
  return `${r.acked}/${r.sent} acknowledged, ${r.failed} failed; publish→PUBACK p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms`;
}
