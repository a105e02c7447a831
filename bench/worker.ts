/**
 * A load-generator process (forked by bench/lib/workers.ts). It holds MQTT connections and does
 * what the parent's commands say (bench/lib/protocol.ts): publish at full speed or paced
 * (worker/publishers.ts), count deliveries and their latency (worker/subscriber.ts), decode the
 * uplink's batches at the cloud (worker/cloud.ts), hold idle connections (worker/idle.ts), or drive
 * the REST API (worker/rest.ts). Several of these run at once so that no single generator event loop
 * is the bottleneck; their CPU time is measured by the parent from /proc.
 */
import type { Command, Reply, Request } from './lib/protocol.js';
import { allow, connectPublishers, disconnectPublishers, finishPublishing, publishStatus, startPublishing, stopPublishing } from './worker/publishers.js';
import { collectLatency, connectSubscriber, count, disconnectSubscriber, latencyReport } from './worker/subscriber.js';
import { cloudCount, cloudWatch, connectCloud, disconnectCloud } from './worker/cloud.js';
import { connectIdle, disconnectIdle } from './worker/idle.js';
import { rest } from './worker/rest.js';

async function handle(cmd: Command): Promise<unknown> {
  switch (cmd.op) {
    case 'connect-publishers': return connectPublishers(cmd);
    case 'publish': return startPublishing(cmd);
    case 'stop-publish': return stopPublishing(cmd);
    case 'finish-publish': return finishPublishing(cmd);
    case 'allow': return allow(cmd);
    case 'disconnect-publishers': return disconnectPublishers();
    case 'publish-status': return publishStatus();
    case 'connect-subscriber': return connectSubscriber(cmd);
    case 'count': return count();
    case 'latency': return collectLatency(cmd.on);
    case 'latency-report': return latencyReport();
    case 'disconnect-subscriber': return disconnectSubscriber();
    case 'connect-cloud': return connectCloud(cmd);
    case 'cloud-count': return cloudCount();
    case 'cloud-watch': return cloudWatch(cmd);
    case 'disconnect-cloud': return disconnectCloud();
    case 'connect-idle': return connectIdle(cmd);
    case 'disconnect-idle': return disconnectIdle();
    case 'rest': return rest(cmd);
    case 'ping': return {};
    case 'exit': setImmediate(() => process.exit(0)); return {};
  }
}

process.on('message', (msg: Request) => {
  handle(msg.cmd).then(
    (result) => process.send?.({ id: msg.id, ok: true, result } satisfies Reply),
    (err: unknown) => process.send?.({ id: msg.id, ok: false, error: (err as Error).message ?? String(err) } satisfies Reply),
  );
});
// The parent went away (even killed): do not linger.
process.on('disconnect', () => process.exit(0));
