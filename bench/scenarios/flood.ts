/**
 * The flood: the scenario 1 QoS 0 load (50 devices writing as fast as their sockets take it, no
 * end-to-end credit) against a gateway with the shipped per-device limit (100 msg/s, burst 100).
 * The limit should hold the delivered rate near 50 × 100 = 5,000 msg/s by slowing the devices down:
 * the gateway stops reading a throttled device, TCP flow control stops the device, and the flood waits
 * in the devices' own socket buffers — not in the gateway. Measured:
 *   - delivered msg/s against the 5,000 maximum;
 *   - bytes held back in the devices' kernel send queues at the end (/proc/net/tcp), the evidence of
 *     backpressure, and what waits unread in the gateway's receive queues;
 *   - gateway RSS over the run: bounded when its maximum over the last third of the run is within
 *     10% of its maximum over the middle third (a plateau; RSS rises at first under any sustained
 *     load as the V8 heap grows, so a short run cannot tell).
 */
import type { Ctx } from '../lib/context.js';
import { devices, gatewayTarget, newGateway, type BenchEnv } from '../lib/env.js';
import { tcpQueuesOf } from '../lib/proc.js';
import { Rig } from '../lib/rig.js';
import { fmtNumber } from '../lib/report.js';

const SC = '1b. flood, QoS 0 full speed, default limit 100 msg/s/device';
const RATE_LIMIT = 100;
const MB = 1024 * 1024;

export async function flood(ctx: Ctx, env: BenchEnv): Promise<void> {
  const s = ctx.settings;
  const gw = newGateway(env, { rateLimit: 'default', uplink: false, name: 'ways-edge-flood' });
  let rig: Rig | undefined;
  try {
    await gw.start();
    rig = new Rig(gatewayTarget(env, gw), s.pubProcs);
    await rig.connect(devices(env, 0, s.devices));
    let queues = { clientSendQ: NaN, serverRecvQ: NaN };
    // Read the queues near the end of the window, while the devices are still pushing.
    const probe = setTimeout(() => { queues = tcpQueuesOf(gw.mqttPort); }, s.warmupMs + s.floodMs - 500);
    const r = await rig.measure({ qos: 0, rate: 0, warmupMs: s.warmupMs, durationMs: s.floodMs, window: s.qos1Window, payloadBytes: s.payloadBytes, settle: false });
    clearTimeout(probe);
    const max = s.devices * RATE_LIMIT;
    const share = r.rate / max;
    const q = r.rssSamplesKb;
    const third = Math.floor(q.length / 3);
    const midMax = Math.max(...q.slice(third, 2 * third));
    const lastMax = Math.max(...q.slice(2 * third));
    const plateau = lastMax <= midMax * 1.1;
    const timeline = [0, 0.25, 0.5, 0.75, 1].map((f) => ((q[Math.min(q.length - 1, Math.floor(f * (q.length - 1)))] ?? NaN) / 1024).toFixed(0)).join(' → ');
    ctx.log(`  RSS over the run (MB, every quarter): ${timeline}; max middle third ${(midMax / 1024).toFixed(0)} MB, last third ${(lastMax / 1024).toFixed(0)} MB`);
    ctx.log(`  ${fmtNumber(r.rate)} msg/s delivered (${(share * 100).toFixed(0)}% of ${max}), broker CPU ${r.brokerCpuPct.toFixed(0)}%; devices wrote ${fmtNumber(r.sent)} messages; held back in their socket send queues ${(queues.clientSendQ / MB).toFixed(1)} MB, unread in the gateway's receive queues ${(queues.serverRecvQ / MB).toFixed(1)} MB`);
    ctx.report.add({ scenario: SC, metric: `delivered (max ${max.toLocaleString('en-US')})`, unit: 'msg/s', gateway: r.rate, target: '≥ 80% of max', met: share >= 0.8 });
    ctx.report.add({ scenario: SC, metric: 'held back by TCP in the devices\' send queues (end of run)', unit: 'MB', gateway: queues.clientSendQ / MB });
    ctx.report.add({ scenario: SC, metric: 'gateway RSS at the start', unit: 'MB', gateway: r.startRssKb / 1024 });
    ctx.report.add({
      scenario: SC, metric: `gateway RSS max over the run (${Math.round(s.floodMs / 1000)} s)`, unit: 'MB', gateway: r.maxRssKb / 1024,
      target: 'plateau (last third ≤ 1.1 × middle third)', met: plateau,
    });
    ctx.report.add({ scenario: SC, metric: 'broker CPU', unit: '% core', gateway: r.brokerCpuPct });
    if (s.floodMs < 20_000) ctx.report.note('The flood ran for less than 20 s: too short to tell a plateau of the RSS from growth.');
    ctx.report.note('The flood row runs without the uplink (WAYS_EDGE_CLOUD_URL empty) and with the shipped rate limit; every other MQTT row runs with WAYS_EDGE_MQTT_RATE_LIMIT=0.');
  } finally {
    if (rig) { await rig.disconnect().catch(() => undefined); await rig.stop(); }
    await gw.stop();
  }
}
