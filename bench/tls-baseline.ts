/**
 * What Node's TLS costs per idle connection before any MQTT: a plain `tls.createServer` in a child
 * process (the same certificates as the bench), `--conns` client connections from this process, each
 * sending one byte after its handshake. Reports the server's marginal RSS and JS heap per connection
 * (after a GC, between 500 connections and all of them) and its CPU per connect. It is the floor
 * under the gateway's and bare aedes' "RSS per connection" rows and their connect cost.
 * `--variant` tries a server setting: default, tls12 (maxVersion TLSv1.2), noticket (SSL_OP_NO_TICKET).
 * Usage:
 *   npm run build && node dist/bench/tls-baseline.js [--conns 3000] [--variant default]
 */
import { fork } from 'node:child_process';
import { constants } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { makeCerts } from './lib/certs.js';
import { cpuSeconds, rssKb } from './lib/proc.js';
import { argValue, numberArg } from './lib/script-args.js';

type Reply = { port: number } | { rss: number; heap: number; n: number };

/** The child: a TLS server that holds every connection and answers 'measure' with its memory. */
function serve(): void {
  const [certFile, keyFile, variant] = process.argv.slice(3);
  const options: tls.TlsOptions = { cert: readFileSync(certFile as string), key: readFileSync(keyFile as string) };
  if (variant === 'tls12') options.maxVersion = 'TLSv1.2';
  if (variant === 'noticket') options.secureOptions = constants.SSL_OP_NO_TICKET;
  const held: tls.TLSSocket[] = [];
  const server = tls.createServer(options, (socket) => {
    held.push(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
  process.on('message', () => {
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ rss: rssKb(process.pid), heap: process.memoryUsage().heapUsed, n: held.length });
  });
}

async function main(): Promise<void> {
  const total = numberArg('conns', 3000);
  const variant = argValue('variant', 'default');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ways-edge-tls-baseline-'));
  const certs = await makeCerts(dir);
  const child = fork(new URL(import.meta.url).pathname, ['serve', certs.certFile, certs.keyFile, variant], { execArgv: ['--expose-gc'] });
  const reply = (send?: string): Promise<Reply> => new Promise((resolve) => { child.once('message', (m) => resolve(m as Reply)); if (send) child.send(send); });
  const clients: tls.TLSSocket[] = [];
  try {
    const first = await reply();
    if (!('port' in first)) throw new Error('the server did not report its port');
    const open = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i += 25) {
        await Promise.all(Array.from({ length: Math.min(25, n - i) }, () => new Promise<void>((resolve, reject) => {
          const socket = tls.connect({ port: first.port, host: '127.0.0.1', ca: certs.caPem, servername: 'localhost' }, () => { socket.write('x'); resolve(); });
          socket.once('error', reject);
          clients.push(socket);
        })));
      }
    };
    const base = Math.min(500, Math.floor(total / 2));
    await open(base);
    const a = await reply('measure');
    const cpu0 = cpuSeconds(child.pid as number);
    await open(total - base);
    const cpu1 = cpuSeconds(child.pid as number);
    const b = await reply('measure');
    if (!('rss' in a) || !('rss' in b)) throw new Error('the server did not report its memory');
    const added = b.n - a.n;
    console.log(`plain Node TLS server (${variant}), ${b.n} idle connections: RSS ${((b.rss - a.rss) / added).toFixed(1)} KB per added connection, ` +
      `JS heap ${((b.heap - a.heap) / 1024 / added).toFixed(2)} KB of it; CPU per connect ${((1000 * (cpu1 - cpu0)) / added).toFixed(2)} ms`);
  } finally {
    for (const c of clients) c.destroy();
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') serve();
else await main();
