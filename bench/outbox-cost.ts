/**
 * What the durable outbox costs per message, without the broker and the network around it: the real
 * Store, GroupCommit and Outbox in this process, 50 devices' 200-byte messages staged and committed the
 * way the broker does (a waited-for group commit per `--per-commit` messages, as QoS 1 under load),
 * then read and removed in batches of 500 as the uplink does once the cloud acknowledges. Reports this
 * process's CPU time (all threads: LevelDB's writes, syncs and compactions included) per message,
 * per round, so that a change to the outbox can be compared with the one before on a quiet machine.
 * `--meter 1` adds the usage meter to the commits and counts every message, as the broker does.
 * Usage:
 *   npm run build && node dist/bench/outbox-cost.js [--messages 200000] [--per-commit 20] [--rounds 3] [--meter 1]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../src/log.js';
import { GroupCommit } from '../src/store/group-commit.js';
import { Store } from '../src/store/store.js';
import { Outbox, sendWindowOf } from '../src/uplink/outbox.js';
import { loadConfig } from '../src/config/load.js';
import { Meter } from '../src/metering/meter.js';
import type { AcceptedMessage } from '../src/broker/ingest.js';
import { numberArg } from './lib/script-args.js';

const DEVICES = Array.from({ length: 50 }, (_, i) => `iot_dev_${String(i).padStart(12, '0')}`);
const BATCH = 500;

async function round(messages: number, perCommit: number, withMeter: boolean): Promise<{ usPerMsg: number; seconds: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ways-edge-outbox-cost-'));
  const store = new Store(dir);
  await store.start();
  const commits = new GroupCommit(store.raw);
  const outbox = new Outbox({ store, commits, log: createLogger('silent'), maxBytes: 0, maxAgeHours: 0, sendWindow: sendWindowOf(loadConfig({ env: {}, cwd: dir }).cloud) });
  await outbox.start();
  const meter = withMeter ? new Meter({ store, timeZone: 'UTC' }) : undefined;
  if (meter) { await meter.start(); commits.addContributor(meter); }
  const payload = Buffer.from(JSON.stringify({ t: 21.5, rh: 40, pad: 'x'.repeat(160) }).slice(0, 200));
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let sent = 0;
    let acked = 0;
    while (acked < messages) {
      if (sent < messages) {
        const waits: Array<Promise<void>> = [];
        for (let i = 0; i < perCommit && sent < messages; i++, sent++) {
          const deviceId = DEVICES[sent % DEVICES.length] as string;
          const msg: AcceptedMessage = { deviceId, topic: `devices/${deviceId}/telemetry`, payload, qos: 1, receivedAt: Date.now() };
          meter?.count(deviceId, 'in', payload.length);
          outbox.stage(msg);
          waits.push(commits.commit([]));
        }
        await Promise.all(waits);
      }
      // The uplink's side: committed entries go in batches and leave on the cloud's acknowledgement.
      if (outbox.committedUpTo - outbox.head + 1 >= BATCH || sent >= messages) {
        const entries = await outbox.read(outbox.head, BATCH);
        acked += outbox.remove(entries);
      }
    }
    await outbox.settled();
    const cpu = process.cpuUsage(cpu0);
    return { usPerMsg: (cpu.user + cpu.system) / messages, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await outbox.stop();
    await meter?.stop();
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const messages = numberArg('messages', 200_000);
  const perCommit = numberArg('per-commit', 20);
  const rounds = numberArg('rounds', 3);
  const withMeter = numberArg('meter', 0) === 1;
  console.log(`outbox cost: ${messages} messages of 50 devices, ${perCommit} per group commit, read and removed ${BATCH} at a time${withMeter ? ', with the usage meter' : ''}`);
  for (let r = 1; r <= rounds; r++) {
    const { usPerMsg, seconds } = await round(messages, perCommit, withMeter);
    console.log(`  round ${r}: ${usPerMsg.toFixed(2)} µs of CPU per message (${(messages / seconds).toFixed(0)} msg/s)`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
