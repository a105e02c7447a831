import t from 'tap';
import type { MqttClient } from 'mqtt';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice, type RegisteredDevice } from '../helpers/devices.js';
import { cloudEnv, startTestCloud } from '../uplink/helpers/cloud.js';
import { connectDevice, telemetry } from '../uplink/helpers/devices.js';
import { checkDelivery, outboxEmpty } from '../uplink/helpers/check.js';
import { Rng } from './helpers/fuzz.js';

const GW = 'iot_dev_gwrobustflap01';
/** How long the link flaps (CI; the soak flaps for minutes). */
const FLAP_SECONDS = Number(process.env.FLAP_SECONDS ?? 20);
const DEVICES = 5;
/** Messages per second per device while the link flaps. */
const RATE = 50;

t.test(`the cloud link flaps every few seconds for ${FLAP_SECONDS} s under load: the outbox drains, nothing stays in flight, nothing is lost`, async (t) => {
  const cloud = await startTestCloud(t, { username: GW });
  const { gw, api } = await withGateway(t, {
    // Retries at most a second apart, so that each short window of link is used.
    env: cloudEnv(cloud, GW, { WAYS_EDGE_CLOUD_RECONNECT_MIN_MS: '100', WAYS_EDGE_CLOUD_RECONNECT_MAX_MS: '1000' }),
  });
  const devs: RegisteredDevice[] = [];
  for (let i = 0; i < DEVICES; i++) devs.push(await registerDevice(api, `flap-${i}`));
  const clients: MqttClient[] = await Promise.all(devs.map((d) => connectDevice(gw.gateway.mqttPort, gw.caPem, d)));
  t.teardown(() => Promise.all(clients.map((c) => c.endAsync(true))));

  const acked = new Map<string, number[]>(devs.map((d) => [d.device_id, []]));
  let publishing = true;
  const load = Promise.all(clients.map(async (c, i) => {
    const d = devs[i] as RegisteredDevice;
    const topic = `devices/${d.device_id}/telemetry`;
    for (let n = 0; publishing; n += 10) {
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 10 }, (_, k) => c.publishAsync(topic, telemetry(n + k), { qos: 1 }).then(() => { acked.get(d.device_id)?.push(n + k); })));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, (10 * 1000) / RATE - (performance.now() - t0))));
    }
  }));

  // The flapping: up 1.5–3.5 s, down 0.3–2 s, at random (seeded).
  const rng = new Rng(0xf1a9);
  const end = performance.now() + FLAP_SECONDS * 1000;
  let outages = 0;
  while (performance.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 1_500 + rng.int(2_000)));
    await cloud.stop();
    outages += 1;
    await new Promise((resolve) => setTimeout(resolve, 300 + rng.int(1_700)));
    await cloud.start();
  }
  publishing = false;
  await load;
  const total = [...acked.values()].reduce((a, l) => a + l.length, 0);
  t.ok(outages >= Math.floor(FLAP_SECONDS / 6), `${outages} outages in ${FLAP_SECONDS} s; ${total} messages acknowledged meanwhile`);

  await outboxEmpty(gw.gateway.outbox, 60_000);
  t.equal(gw.gateway.outbox?.count, 0, 'the outbox drained');
  const uplink = gw.gateway.uplink?.snapshot() as { inflight: number; state: string; dropped_total: number };
  t.equal(uplink.inflight, 0, 'no batch is stuck in flight');
  t.equal(uplink.state, 'connected');
  t.equal(uplink.dropped_total, 0, 'nothing was dropped');
  t.ok(cloud.connects > outages, `the gateway reconnected after every outage (${cloud.connects} connects)`);
  checkDelivery(t, cloud, acked);
});
