import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { Gateway } from '../../src/gateway.js';
import { loopbackGatewayEnv } from './env.js';

export interface TestGateway {
  gateway: Gateway;
  config: GatewayConfig;
  dataDir: string;
  /** https://127.0.0.1:<port> */
  baseUrl: string;
  adminKey: string;
  caPem: string;
  /** Stops the gateway (idempotent). */
  stop(): Promise<void>;
  /** Stops it and starts a new one on the same data directory and environment. */
  restart(): Promise<TestGateway>;
}

export interface StartOptions {
  /** WAYS_EDGE_* overrides, e.g. { WAYS_EDGE_MQTT_RATE_LIMIT: '0' }. */
  env?: Record<string, string>;
  /** Reuse a data directory (restart tests). */
  dataDir?: string;
  /** Keep the data directory after stop (default: removed by cleanup()). */
  keep?: boolean;
  /** The gateway's clock for metering, the quota period and certificate checks (month-boundary tests). */
  now?: () => Date;
}

export function tempDir(prefix = 'ways-edge-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Starts a real gateway in this process: real LevelDB in a temp dir, real HTTPS API and TLS broker on
 * ephemeral loopback ports, no uplink unless the test configures one. Logs are silent unless
 * WAYS_EDGE_TEST_LOG is set.
 */
export async function startGateway(opts: StartOptions = {}): Promise<TestGateway> {
  const dataDir = opts.dataDir ?? tempDir();
  const env: NodeJS.ProcessEnv = {
    ...loopbackGatewayEnv(dataDir),
    WAYS_EDGE_LOG_LEVEL: process.env.WAYS_EDGE_TEST_LOG ?? 'silent',
    // Sampling every 30 s and cron jobs are irrelevant to most tests; they configure their own.
    ...opts.env,
  };
  const config = loadConfig({ env, cwd: dataDir });
  const gateway = new Gateway(config, createLogger(config.log.level), { now: opts.now });
  await gateway.start();
  const adminKey = readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim();
  let stopped = false;
  const handle: TestGateway = {
    gateway,
    config,
    dataDir,
    baseUrl: `https://127.0.0.1:${gateway.apiPort}`,
    adminKey,
    caPem: gateway.tlsMaterial.caPem,
    async stop() {
      if (stopped) return;
      stopped = true;
      await gateway.stop();
    },
    async restart() {
      await handle.stop();
      return startGateway({ ...opts, dataDir, keep: true });
    },
  };
  return handle;
}

/** Removes a test's data directory. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
