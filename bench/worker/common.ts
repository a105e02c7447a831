/** Helpers shared by the generator roles of bench/worker.ts. */
import { LeanClient, type BrokerAddress } from '../lib/lean-mqtt.js';
import type { DeviceCredential } from '../lib/protocol.js';

export function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

/**
 * Connects one device (client id = username = device id). Retries a refused socket and CONNACK 3
 * ("server unavailable": the gateway's login queue is full), as a device would.
 */
export async function connectDevice(broker: BrokerAddress, d: DeviceCredential, retries: { n: number }): Promise<LeanClient> {
  for (let attempt = 0; ; attempt++) {
    const client = new LeanClient({ broker, clientId: d.id, username: d.id, password: d.password, keepalive: 600 });
    let rc: number;
    try {
      rc = await client.connect();
    } catch (err) {
      client.destroy();
      if (attempt >= 20) throw err;
      retries.n += 1;
      await sleep(100 + attempt * 100);
      continue;
    }
    if (rc === 0) return client;
    client.destroy();
    if (rc !== 3 || attempt >= 50) throw new Error(`CONNACK ${rc} for ${d.id}`);
    retries.n += 1;
    await sleep(200 + attempt * 50);
  }
}

export async function endAll(clients: LeanClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.end()));
  clients.length = 0;
}
