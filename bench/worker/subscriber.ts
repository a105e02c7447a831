/** The subscriber (an application client): counts deliveries and, when asked, their latency. */
import { LeanClient } from '../lib/lean-mqtt.js';
import { nowUs, sentAtUs } from '../lib/payload.js';
import type { CommandOf, Results } from '../lib/protocol.js';
import { Samples, summarize } from '../lib/stats.js';

let subscriber: LeanClient | undefined;
let received = 0;
let receivedBytes = 0;
let latencies: Samples | undefined;

export async function connectSubscriber(cmd: CommandOf<'connect-subscriber'>): Promise<Results['connect-subscriber']> {
  const client = new LeanClient({ broker: cmd.broker, clientId: cmd.clientId, username: cmd.username, password: cmd.password, keepalive: 600 });
  const rc = await client.connect();
  if (rc !== 0) throw new Error(`subscriber CONNACK ${rc}`);
  client.onPublish = (_topic, payload) => {
    received += 1;
    receivedBytes += payload.length;
    if (latencies) {
      const sentUs = sentAtUs(payload);
      if (!Number.isNaN(sentUs)) latencies.add((nowUs() - sentUs) / 1000);
    }
  };
  const granted = await client.subscribe(cmd.filter, cmd.qos);
  if (granted.some((g) => g > 2)) throw new Error(`subscription to ${cmd.filter} refused (SUBACK ${granted.join(',')})`);
  subscriber = client;
  return { granted };
}

export function count(): Results['count'] { return { received, bytes: receivedBytes }; }

export function collectLatency(on: boolean): Results['latency'] {
  latencies = on ? new Samples(2_000_000) : undefined;
  return {};
}

export function latencyReport(): Results['latency-report'] { return summarize(latencies?.view() ?? new Float64Array(0)); }

export async function disconnectSubscriber(): Promise<Results['disconnect-subscriber']> {
  if (subscriber) await subscriber.end();
  subscriber = undefined;
  return {};
}
