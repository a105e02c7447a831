import https from 'node:https';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Service } from '../lifecycle.js';
import type { GatewayConfig } from '../config/schema.js';
import type { TlsMaterial } from '../certs/tls-material.js';
import { serverTlsOptions } from '../certs/tls-options.js';
import type { Logger } from '../log.js';
import type { ApiState } from './context.js';

/** The HTTPS listener of the API and dashboard. */
export class ApiServer implements Service {
  readonly name = 'api';
  private server: http.Server | https.Server | undefined;

  constructor(private readonly deps: { app: Koa<ApiState>; config: GatewayConfig; tls: TlsMaterial; log: Logger }) {}

  get port(): number { return (this.server?.address() as AddressInfo | null)?.port ?? 0; }

  async start(): Promise<void> {
    const { api } = this.deps.config;
    const handler = this.deps.app.callback();
    const server = api.tls ? https.createServer(serverTlsOptions(this.deps.tls), handler) : http.createServer(handler);
    // Slow or idle clients must not hold sockets for long on a small board.
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.keepAliveTimeout = 5_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(api.port, api.host, () => { server.off('error', reject); resolve(); });
    });
    this.deps.log.info({ event: 'api_listening', host: api.host, port: this.port, tls: api.tls }, `API listening on ${api.tls ? 'https' : 'http'}://${api.host}:${this.port}`);
  }

  /** New TLS handshakes get this certificate; open connections keep theirs (SIGHUP reload). */
  setTls(material: TlsMaterial): void {
    if (this.server instanceof https.Server) this.server.setSecureContext(serverTlsOptions(material));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
