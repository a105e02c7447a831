/**
 * Scenario 3: idle TLS devices. For each broker (freshly started, one at a time: mosquitto, the
 * gateway, then the bare aedes reference): connect devices in cumulative steps (e.g. 1,000 then
 * 5,000 in all), 100 CONNECTs in flight over four generator processes; per step the connect rate and
 * (RSS after the connections settled − RSS before any) / N. mosquitto and the gateway verify every
 * login against a stored hash: the gateway's is salted SHA-256 (src/auth/secrets.ts), mosquitto's
 * PBKDF2-SHA512 (`mosquitto_passwd -U`); bare aedes compares the password itself. The rate is
 * mostly TLS handshakes.
 */
import { sleep, type Ctx } from '../lib/context.js';
import { bareAedesTarget, devices, gatewayTarget, mosquittoTarget, newBareAedes, newGateway, newMosquitto, type BenchEnv } from '../lib/env.js';
import type { BareAedes } from '../lib/bare-aedes.js';
import type { GatewayProcess } from '../lib/gateway.js';
import type { Mosquitto } from '../lib/mosquitto.js';
import { cpuSeconds, cpuSecondsOf, rssKb } from '../lib/proc.js';
import { columns, fmtNumber, type Columns } from '../lib/report.js';
import { SHORT_LABEL, type BrokerTarget, type Label } from '../lib/rig.js';
import { split, WorkerPool } from '../lib/workers.js';

const SC = '3. idle TLS devices';
const PROCS = 4;
const IN_FLIGHT = 100;

interface Step { n: number; connected: number; rate: number; perConnKb: number; rssKb: number; cpuMsPerConn: number; failed: number; skipped: number }

async function measureTarget(ctx: Ctx, env: BenchEnv, target: BrokerTarget): Promise<Step[]> {
  const pool = new WorkerPool(`idle-${SHORT_LABEL[target.label]}`, PROCS);
  const steps: Step[] = [];
  try {
    await pool.ready();
    await sleep(ctx.settings.settleMs);
    const rss0 = rssKb(target.pid());
    let done = 0;
    let connectedBefore = 0;
    const deadline = performance.now() + ctx.settings.connectionTimeMs;
    for (const n of ctx.settings.connectionSteps) {
      const timeLimitMs = deadline - performance.now();
      if (timeLimitMs <= 0) break;
      const batch = devices(env, done, n - done);
      const parts = split(batch, PROCS);
      const cpu0 = cpuSeconds(target.pid());
      const gen0 = cpuSecondsOf(pool.pids);
      const t0 = performance.now();
      const results = await pool.all((w, i) => w.call({ op: 'connect-idle', broker: target.broker, devices: parts[i] ?? [], concurrency: Math.ceil(IN_FLIGHT / PROCS), timeLimitMs }));
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(target.pid()) - cpu0;
      const genPct = cpuSecondsOf(pool.pids).map((v, i) => (100 * (v - (gen0[i] ?? 0))) / seconds);
      const connected = results.reduce((s, r) => s + r.connected, 0);
      const failed = results.reduce((s, r) => s + r.failed, 0);
      const skipped = results.reduce((s, r) => s + r.skipped, 0);
      const retries = results.reduce((s, r) => s + r.retries, 0);
      // Let buffers, GC and the broker's own bookkeeping settle before reading RSS.
      await sleep(ctx.settings.settleMs);
      const rss = rssKb(target.pid());
      const newOnes = connected - connectedBefore;
      connectedBefore = connected;
      done = n;
      const step: Step = { n, connected, rate: newOnes / seconds, perConnKb: (rss - rss0) / connected, rssKb: rss, cpuMsPerConn: (cpu * 1000) / newOnes, failed, skipped };
      steps.push(step);
      ctx.log(`  ${target.label.padEnd(9)} ${connected} connected (+${newOnes} in ${seconds.toFixed(1)} s = ${fmtNumber(step.rate)}/s, ${retries} retries, ${failed} failed${failed ? `: ${results.find((r) => r.firstError)?.firstError}` : ''}${skipped ? `, ${skipped} not tried within the time limit` : ''}), broker CPU ${step.cpuMsPerConn.toFixed(2)} ms/connect, RSS ${(rss / 1024).toFixed(1)} MB = ${step.perConnKb.toFixed(1)} KB/conn; generators ${genPct.map((g) => g.toFixed(0)).join('+')}%`);
      if (skipped > 0) {
        ctx.report.note(`Connections on ${target.label}: the time limit (${ctx.settings.connectionTimeMs / 1000} s per broker) ended the ${n.toLocaleString('en-US')} step at ${connected.toLocaleString('en-US')} connections; its figures are for that many.`);
        break;
      }
    }
    await pool.all((w) => w.call({ op: 'disconnect-idle' }));
  } finally {
    await pool.stop();
  }
  return steps;
}

export async function connections(ctx: Ctx, env: BenchEnv): Promise<void> {
  const by = new Map<Label, Step[]>();
  let mosq: Mosquitto | undefined;
  let gw: GatewayProcess | undefined;
  let bare: BareAedes | undefined;
  try {
    mosq = await newMosquitto(env, 'mosquitto-conn');
    await mosq.start();
    by.set('mosquitto', await measureTarget(ctx, env, mosquittoTarget(env, mosq)));
    await mosq.stop();
    mosq = undefined;
    gw = newGateway(env, { name: 'ways-edge-conn', uplink: false });
    await gw.start();
    if (gw.mqttPort > 0) by.set('ways-edge', await measureTarget(ctx, env, gatewayTarget(env, gw)));
    await gw.stop();
    gw = undefined;
    if (ctx.settings.bareAedes) {
      bare = await newBareAedes(env, 'bare-aedes-conn');
      await bare.start();
      by.set('aedes', await measureTarget(ctx, env, bareAedesTarget(env, bare)));
    }
  } finally {
    await bare?.stop();
    await gw?.stop();
    await mosq?.stop();
  }
  for (const [i, n] of ctx.settings.connectionSteps.entries()) {
    const m = by.get('mosquitto')?.[i];
    const g = by.get('ways-edge')?.[i];
    /** One figure of this step from every broker measured, as a row's columns. */
    const of = (pick: (step: Step, label: Label) => number | undefined): Columns =>
      columns((label) => { const step = by.get(label)?.[i]; return step ? pick(step, label) : undefined; });
    const label = n.toLocaleString('en-US');
    ctx.report.add({ scenario: SC, metric: `${label}: connect rate`, unit: 'conn/s', ...of((st) => st.rate) });
    ctx.report.add({ scenario: SC, metric: `${label}: broker CPU per connect (TLS + auth)`, unit: 'ms', ...of((st) => st.cpuMsPerConn) });
    ctx.report.add({
      scenario: SC, metric: `${label}: RSS per connection (ΔRSS / N)`, unit: 'KB', target: '< 32 KB',
      ...of((st) => st.perConnKb), ...(g ? { met: g.perConnKb < 32 } : {}),
    });
    const prevN = ctx.settings.connectionSteps[i - 1];
    if (prevN !== undefined) {
      const marginal = (cur: Step, label: Label): number | undefined => {
        const prev = by.get(label)?.[i - 1];
        return prev && cur.connected > prev.connected ? (cur.rssKb - prev.rssKb) / (cur.connected - prev.connected) : undefined;
      };
      const row = of(marginal);
      ctx.report.add({
        scenario: SC, metric: `${prevN.toLocaleString('en-US')} → ${label}: RSS per added connection (marginal)`, unit: 'KB', target: '< 32 KB',
        ...row, ...(row.gateway !== undefined ? { met: row.gateway < 32 } : {}),
      });
    }
    if (n === 1000 || (i === 0 && !ctx.settings.connectionSteps.includes(1000))) {
      ctx.report.add({ scenario: '6. footprint', metric: `RSS with ${label} devices connected`, unit: 'MB', ...of((st) => st.rssKb / 1024) });
    }
    const failed = (m?.failed ?? 0) + (g?.failed ?? 0) + (by.get('aedes')?.[i]?.failed ?? 0);
    if (failed > 0) ctx.report.note(`Connections ${label}: ${failed} devices could not connect (see the log above).`);
  }
  ctx.report.note('The connections rows run without the uplink (WAYS_EDGE_CLOUD_URL empty), on freshly started brokers.');
}
