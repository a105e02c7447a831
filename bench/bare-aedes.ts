/**
 * The bench's reference broker: aedes as it comes (its default options and in-memory persistence) on
 * a TLS listener with the bench's certificate, checking each CONNECT's password — and nothing else:
 * no ACL, no metering, no durable write, no uplink, no write coalescing. Its figures are what aedes
 * and Node cost by themselves; the gateway's minus these is what the gateway adds.
 *
 * Started by bench/lib/bare-aedes.ts with its settings in the JSON file BARE_AEDES_CONFIG_FILE names;
 * stopped by SIGTERM.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import { Aedes } from 'aedes';

export interface BareAedesConfig {
  port: number;
  certFile: string;
  keyFile: string;
  /** username → password. */
  users: Record<string, string>;
}

async function main(): Promise<void> {
  const config = JSON.parse(readFileSync(process.env.BARE_AEDES_CONFIG_FILE ?? '', 'utf8')) as BareAedesConfig;
  const users = new Map(Object.entries(config.users).map(([name, password]) => [name, Buffer.from(password)]));
  const aedes = new Aedes({
    authenticate: (_client, username, password, callback) => {
      const expected = username === undefined ? undefined : users.get(username);
      const ok = expected !== undefined && password !== undefined && password.length === expected.length && timingSafeEqual(password, expected);
      callback(null, ok);
    },
  });
  await aedes.listen();
  const server = tls.createServer({ cert: readFileSync(config.certFile), key: readFileSync(config.keyFile) }, (socket) => {
    // As mosquitto (set_tcp_nodelay true) and the gateway (src/broker/listeners.ts) do.
    socket.setNoDelay(true);
    aedes.handle(socket);
  });
  server.listen(config.port, '127.0.0.1');
  process.once('SIGTERM', () => {
    server.close();
    aedes.close(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bare aedes: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
