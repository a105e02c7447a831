/**
 * Messages between the bench (parent) and its load-generator processes (bench/worker.ts, forked).
 * Every command carries an id; the worker answers each with a Reply of the same id.
 */
import type { BrokerAddress } from './lean-mqtt.js';
import type { LatencySummary } from './stats.js';

export interface DeviceCredential { id: string; password: string }

export type Command =
  /** Connect these devices as publishers (client id = username = device id). */
  | { op: 'connect-publishers'; broker: BrokerAddress; devices: DeviceCredential[]; concurrency: number }
  /** Start publishing on every connected publisher: at full speed (`rate` 0) or `rate` msg/s in total for this worker. */
  | { op: 'publish'; qos: 0 | 1; rate: number; window: number; payloadBytes: number; limit?: number }
  /** Raise the number of messages this worker may have sent in all since 'publish' (end-to-end credit). */
  | { op: 'allow'; limit: number }
  /** Wait until `limit` messages were sent and acknowledged (bounded by `timeoutMs`), then stop. */
  | { op: 'finish-publish'; timeoutMs: number }
  /** Stop publishing; with `drain`, wait (bounded) for outstanding PUBACKs. */
  | { op: 'stop-publish'; drainMs: number }
  | { op: 'disconnect-publishers' }
  /** Where the publishers stand (diagnostics). */
  | { op: 'publish-status' }
  /** One subscriber connection (an application client). */
  | { op: 'connect-subscriber'; broker: BrokerAddress; clientId: string; username: string; password: string; filter: string; qos: 0 | 1 }
  | { op: 'count' }
  /** Start (or stop, `on` false) collecting publish→deliver latencies in the subscriber. */
  | { op: 'latency'; on: boolean }
  | { op: 'latency-report' }
  | { op: 'disconnect-subscriber' }
  /** Subscriber on the cloud broker: decodes the uplink's batches and counts messages; reconnects by itself. */
  | { op: 'connect-cloud'; broker: BrokerAddress; clientId: string; filter: string }
  | { op: 'cloud-count' }
  /** Resolves once `unique` messages have reached the cloud consumer (bounded), with the times (µs, monotonic) of the first and last message seen meanwhile. */
  | { op: 'cloud-watch'; unique: number; timeoutMs: number }
  | { op: 'disconnect-cloud' }
  /** Connect many idle devices (connection scenario), `concurrency` CONNECTs in flight at once. */
  | { op: 'connect-idle'; broker: BrokerAddress; devices: DeviceCredential[]; concurrency: number; timeLimitMs: number }
  | { op: 'disconnect-idle' }
  /** A closed-loop HTTP load: `connections` requests in flight for `durationMs`. */
  | { op: 'rest'; origin: string; ca: string; key: string; paths: string[]; connections: number; durationMs: number }
  /** Answers at once: the worker has started and loaded its modules. */
  | { op: 'ping' }
  | { op: 'exit' };

export type CommandOf<K extends Command['op']> = Extract<Command, { op: K }>;

export interface PublishStats { sent: number; acked: number; blockedTicks: number }
export interface PublishStatus { sent: number; acked: number; limit: number; inflight: number; blockedSockets: number; scheduled: number }
export interface SubscriberCount { received: number; bytes: number }
export interface CloudCount { batches: number; messages: number; unique: number; duplicates: number; connects: number; connected: boolean }
export interface CloudWatch { reached: boolean; unique: number; firstUs: number; lastUs: number; startUs: number }
/** `connected` counts this worker's idle connections in all; `skipped` were not tried within the time limit. */
export interface IdleResult { connected: number; failed: number; skipped: number; retries: number; ms: number; firstError: string }
export interface RestResult { requests: number; errors: number; statusCounts: Record<string, number>; latenciesMs: number[] }

export interface Results {
  'connect-publishers': { connected: number; ms: number };
  publish: Record<string, never>;
  'stop-publish': PublishStats;
  'finish-publish': PublishStats;
  allow: Record<string, never>;
  'disconnect-publishers': Record<string, never>;
  'publish-status': PublishStatus;
  'connect-subscriber': { granted: number[] };
  count: SubscriberCount;
  latency: Record<string, never>;
  'latency-report': LatencySummary;
  'disconnect-subscriber': Record<string, never>;
  'connect-cloud': Record<string, never>;
  'cloud-count': CloudCount;
  'cloud-watch': CloudWatch;
  'disconnect-cloud': Record<string, never>;
  'connect-idle': IdleResult;
  'disconnect-idle': Record<string, never>;
  rest: RestResult;
  ping: Record<string, never>;
  exit: Record<string, never>;
}

export interface Request { id: number; cmd: Command }
export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
