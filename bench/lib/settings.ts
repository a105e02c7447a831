/**
 * What a run does: `npm run bench` (full, under 10 minutes) or `npm run bench -- --quick` (under 2
 * minutes, for development). Every scenario is bounded in count and time by these numbers.
 */
export const SCENARIOS = ['footprint', 'throughput', 'latency', 'ingest', 'rest', 'flood', 'connections', 'startup', 'profile'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface Settings {
  quick: boolean;
  /** Repetitions of each alternated measurement (medians are reported). */
  reps: number;
  /** Publishing devices and their payload. */
  devices: number;
  payloadBytes: number;
  /** QoS 1 messages a publishing device may have unacknowledged. */
  qos1Window: number;
  /** End-to-end credit of the full-speed runs (see WindowOptions.credit). */
  credit: number;
  /** Generator processes per broker (the subscriber has its own). */
  pubProcs: number;
  warmupMs: number;
  throughputMs: number;
  latencyRate: number;
  latencyMs: number;
  /** The same paced load at QoS 0 (no durable write before delivery), for comparison. */
  latency0Ms: number;
  floodMs: number;
  drainMessages: number;
  restMs: number;
  restConnections: number;
  /** Idle TLS connections, cumulative steps (RSS per connection and connect rate at each). */
  connectionSteps: number[];
  /** Time limit of all connection steps of one broker. */
  connectionTimeMs: number;
  idleCpuMs: number;
  /** Pause for RSS and start-up work to settle before a memory reading. */
  settleMs: number;
  startupDevices: number;
  startupRuns: number;
  profileMs: number;
  only: ReadonlySet<Scenario>;
  /** Also measure bare aedes (bench/bare-aedes.ts) as the reference of what aedes and Node cost alone. */
  bareAedes: boolean;
  /**
   * Extra environment of every gateway the run starts (`--gateway-env NAME=VALUE`, repeatable), for
   * experiments: a setting (WAYS_EDGE_CLOUD_URL= runs without the uplink and its outbox) or V8 flags
   * (NODE_OPTIONS). Applied last, so it wins over the bench's own settings.
   */
  gatewayEnv: Record<string, string>;
  /** BENCH_GATEWAY_NODE_ARGS: node flags for every gateway, those NODE_OPTIONS refuses (--trace-gc). */
  gatewayNodeArgs: string[];
  /** BENCH_GATEWAY_STDOUT: the file the gateways' non-log stdout lines (GC traces) are appended to. */
  gatewayStdoutFile: string | undefined;
  writeDocs: boolean;
}

export function parseSettings(argv: readonly string[], environment: NodeJS.ProcessEnv = process.env): Settings {
  const has = (flag: string): boolean => argv.includes(flag);
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = has('--quick');
  const onlyArg = value('--only');
  const only = new Set<Scenario>();
  for (const name of onlyArg ? onlyArg.split(',') : SCENARIOS) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`unknown scenario "${name}" (one of ${SCENARIOS.join(', ')})`);
    only.add(name as Scenario);
  }
  if (has('--no-profile')) only.delete('profile');
  const gatewayEnv: Record<string, string> = {};
  argv.forEach((arg, i) => {
    if (arg !== '--gateway-env') return;
    const assignment = argv[i + 1] ?? '';
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new Error(`--gateway-env takes NAME=VALUE, got "${assignment}"`);
    gatewayEnv[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  });
  const gatewayNodeArgs = (environment.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const reps = Number(value('--reps') ?? (quick ? 1 : 3));
  if (!Number.isInteger(reps) || reps < 1 || reps > 9) throw new Error('--reps must be 1..9');
  return {
    quick,
    reps,
    devices: 50,
    payloadBytes: 200,
    qos1Window: 32,
    // Below mosquitto's default max_queued_messages (1000), so mosquitto never drops for queue length.
    credit: 800,
    pubProcs: 2,
    warmupMs: quick ? 500 : 1_000,
    throughputMs: quick ? 1_500 : 5_000,
    latencyRate: 5_000,
    latencyMs: quick ? 2_000 : 8_000,
    latency0Ms: quick ? 1_500 : 3_000,
    floodMs: quick ? 4_000 : 30_000,
    drainMessages: quick ? 10_000 : 50_000,
    restMs: quick ? 1_500 : 5_000,
    restConnections: 16,
    connectionSteps: quick ? [50, 150] : [1_000, 5_000],
    connectionTimeMs: quick ? 10_000 : 150_000,
    idleCpuMs: quick ? 3_000 : 30_000,
    settleMs: quick ? 1_000 : 3_000,
    startupDevices: 10_000,
    startupRuns: quick ? 1 : 3,
    profileMs: quick ? 2_000 : 6_000,
    only,
    bareAedes: !has('--no-aedes'),
    gatewayEnv,
    gatewayNodeArgs,
    gatewayStdoutFile: environment.BENCH_GATEWAY_STDOUT || undefined,
    // A full run records its table in docs/BENCHMARKS.md; a quick, partial or experimental one only when asked.
    writeDocs: has('--write-docs') || (!quick && !onlyArg && !has('--reps') && !has('--no-docs') && Object.keys(gatewayEnv).length === 0 && gatewayNodeArgs.length === 0),
  };
}

export const USAGE = `npm run bench [-- options]
  --quick            short run for development (< 2 minutes), does not touch docs/BENCHMARKS.md
  --only a,b         only these scenarios: ${SCENARIOS.join(', ')}
  --reps N           repetitions of each alternated measurement (default 3, quick 1)
  --no-profile       skip the --cpu-prof pass of the gateway
  --no-aedes         skip the bare aedes reference broker (aedes + password check, nothing else)
  --gateway-env N=V  extra environment for every gateway started (repeatable; an experiment:
                     e.g. WAYS_EDGE_CLOUD_URL= for no uplink, NODE_OPTIONS=--max-semi-space-size=64)
  --keep-profile DIR keep the gateway's .cpuprofile in DIR (Chrome DevTools, speedscope)
  --no-docs          do not write docs/BENCHMARKS.md after a full run
  --write-docs       write docs/BENCHMARKS.md even after a quick or partial run
Environment of the bench itself (a run with BENCH_GATEWAY_NODE_ARGS does not write docs/BENCHMARKS.md):
  BENCH_GATEWAY_NODE_ARGS="--trace-gc ..."  node flags for every gateway (those NODE_OPTIONS refuses)
  BENCH_GATEWAY_STDOUT=FILE                 append the gateways' non-log stdout lines (e.g. GC traces) to FILE
`;
