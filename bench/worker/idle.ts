/** Idle device connections (the connection scenario), CONNECTs bounded in flight and in time. */
import type { LeanClient } from '../lib/lean-mqtt.js';
import type { CommandOf, Results } from '../lib/protocol.js';
import { connectDevice, endAll, mapLimit } from './common.js';

const idle: LeanClient[] = [];

export async function connectIdle(cmd: CommandOf<'connect-idle'>): Promise<Results['connect-idle']> {
  const t0 = performance.now();
  const retries = { n: 0 };
  let failed = 0;
  let skipped = 0;
  let firstError = '';
  const deadline = t0 + cmd.timeLimitMs;
  await mapLimit(cmd.devices, cmd.concurrency, async (d) => {
    if (performance.now() > deadline) { skipped += 1; return; }
    try {
      idle.push(await connectDevice(cmd.broker, d, retries));
    } catch (err) {
      failed += 1;
      firstError ||= (err as Error).message;
    }
  });
  return { connected: idle.length, failed, skipped, retries: retries.n, ms: performance.now() - t0, firstError };
}

export async function disconnectIdle(): Promise<Results['disconnect-idle']> {
  await endAll(idle);
  return {};
}
