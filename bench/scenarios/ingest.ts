/**
 * Scenario 4, second half: backlog drain after a cloud outage. The cloud broker is stopped, N QoS 1
 * messages are published (each acknowledged by the gateway, so each is in the durable outbox), the
 * cloud broker is started again, and the consumer there counts until it has all N.
 *   drain rate = N / (time of the last message at the cloud − time of the first)
 * (the reconnect delay of the uplink is reported apart: cloud start → first message).
 */
import { sleep, type Ctx } from '../lib/context.js';
import type { GatewayProcess } from '../lib/gateway.js';
import type { Mosquitto } from '../lib/mosquitto.js';
import type { Rig } from '../lib/rig.js';
import type { Worker } from '../lib/workers.js';
import { nowUs } from '../lib/payload.js';
import { fmtNumber } from '../lib/report.js';

const SC = '4. ingest to cloud (uplink, same QoS 1 load)';

/** Waits until the cloud consumer's count stops moving: the outbox has nothing left to send. */
async function settle(probe: Worker, quietMs = 1_500, maxMs = 60_000): Promise<number> {
  const deadline = performance.now() + maxMs;
  let last = (await probe.call({ op: 'cloud-count' })).unique;
  let since = performance.now();
  while (performance.now() < deadline) {
    await sleep(200);
    const now = (await probe.call({ op: 'cloud-count' })).unique;
    if (now !== last) { last = now; since = performance.now(); } else if (performance.now() - since >= quietMs) break;
  }
  return last;
}

export async function drain(ctx: Ctx, o: { rig: Rig; cloud: Mosquitto; probe: Worker; gw: GatewayProcess }): Promise<void> {
  const s = ctx.settings;
  const n = s.drainMessages;
  const base = await settle(o.probe);
  await o.cloud.stop();
  const perWorker = Math.ceil(n / o.rig.pubs.workers.length);
  const total = perWorker * o.rig.pubs.workers.length;
  const tPub = performance.now();
  await o.rig.pubs.all((w) => w.call({ op: 'publish', qos: 1, rate: 0, window: s.qos1Window, payloadBytes: s.payloadBytes, limit: perWorker }));
  const done = await o.rig.pubs.all((w) => w.call({ op: 'finish-publish', timeoutMs: 120_000 }));
  const acked = done.reduce((sum, r) => sum + r.acked, 0);
  const pubSeconds = (performance.now() - tPub) / 1000;
  await o.rig.quiesce();
  ctx.log(`  cloud down: ${acked} of ${total} messages acknowledged by the gateway in ${pubSeconds.toFixed(1)} s (${fmtNumber(acked / pubSeconds)} msg/s into the outbox)`);
  const watching = o.probe.call({ op: 'cloud-watch', unique: base + acked, timeoutMs: 180_000 });
  const startUs = nowUs();
  await o.cloud.start();
  const w = await watching;
  const got = w.unique - base;
  const drainSeconds = (w.lastUs - w.firstUs) / 1e6;
  const rate = got / drainSeconds;
  const reconnectMs = (w.firstUs - startUs) / 1000;
  const allSeconds = (w.lastUs - startUs) / 1e6;
  ctx.log(`  cloud up: ${got} of ${acked} at the cloud, first after ${reconnectMs.toFixed(0)} ms, all after ${allSeconds.toFixed(2)} s → drain ${fmtNumber(rate)} msg/s${w.reached ? '' : ' (INCOMPLETE: timed out)'}`);
  if (!w.reached) ctx.report.note(`Drain: only ${got} of ${acked} messages reached the cloud within the time limit.`);
  ctx.report.add({ scenario: SC, metric: `backlog drain after an outage (${acked.toLocaleString('en-US')} msgs)`, unit: 'msg/s', gateway: rate, target: '≥ 20,000 msg/s', met: w.reached && rate >= 20_000 });
  ctx.report.add({ scenario: SC, metric: 'cloud back → first message (uplink reconnect)', unit: 'ms', gateway: reconnectMs });
  ctx.report.add({ scenario: SC, metric: 'outbox intake while the cloud is down', unit: 'msg/s', gateway: acked / pubSeconds });
}
