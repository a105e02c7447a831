import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import tls from 'node:tls';
import type { GatewayConfig } from '../config/schema.js';
import type { TlsMaterial } from '../certs/tls-material.js';
import { serverTlsOptions } from '../certs/tls-options.js';
import type { Logger } from '../log.js';

/**
 * The MQTT listeners: TLS on mqtt.port (TLS 1.2/1.3, Mozilla intermediate ciphers, the gateway
 * certificate) and, only when mqtt.plain_enabled, a plain one on mqtt.plain_host (localhost by
 * default). Each accepted connection goes to `handle` (the broker). A TLS handshake must finish within
 * mqtt.connect_timeout_ms, like a CONNECT must: idle sockets do not pile up before either.
 */
export class MqttListeners {
  private tlsServer: tls.Server | undefined;
  private plainServer: Server | undefined;
  /** Raw sockets not yet closed, so stop() can end those still in a TLS handshake. */
  private readonly sockets = new Set<Socket>();
  private readonly forget = ((sockets: Set<Socket>) => function forgetSocket(this: Socket): void { sockets.delete(this); })(this.sockets);

  constructor(private readonly deps: { mqtt: GatewayConfig['mqtt']; tls: TlsMaterial; log: Logger; handle: (socket: Socket) => void }) {}

  get port(): number { return portOf(this.tlsServer); }
  get plainPort(): number { return portOf(this.plainServer); }

  async start(): Promise<void> {
    const { mqtt, log } = this.deps;
    const server = tls.createServer({ ...serverTlsOptions(this.deps.tls), handshakeTimeout: mqtt.connect_timeout_ms }, (socket) => this.accept(socket));
    server.on('tlsClientError', (err, socket) => {
      log.debug({ event: 'mqtt_tls_error', address: socket.remoteAddress, err: err.message }, 'TLS handshake failed');
      // With a listener here, Node leaves the socket open (a handshake timeout included): close it.
      socket.destroy();
    });
    this.tlsServer = server;
    await this.listen(server, mqtt.port, mqtt.host);
    log.info({ event: 'mqtt_listening', host: mqtt.host, port: this.port, tls: true }, `MQTT listening on mqtts://${mqtt.host}:${this.port}`);

    if (mqtt.plain_enabled) {
      const plain = net.createServer((socket) => this.accept(socket));
      this.plainServer = plain;
      await this.listen(plain, mqtt.plain_port, mqtt.plain_host);
      log.info({ event: 'mqtt_plain_listening', host: mqtt.plain_host, port: this.plainPort, tls: false },
        `MQTT (plain, no TLS) listening on mqtt://${mqtt.plain_host}:${this.plainPort}`);
    }
  }

  /**
   * New TLS handshakes use this certificate from now on (SIGHUP); connections already up keep theirs,
   * so no device is dropped. The caller has checked the material (src/certs/tls-material.ts).
   */
  setTls(material: TlsMaterial): void {
    this.tlsServer?.setSecureContext(serverTlsOptions(material));
  }

  /** Stops accepting; connections the broker holds are closed by the broker. Resolves when all are gone. */
  async stop(): Promise<void> {
    const servers = [this.tlsServer, this.plainServer].filter((s): s is Server => s !== undefined);
    this.tlsServer = undefined;
    this.plainServer = undefined;
    const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closed);
  }

  private accept(socket: Socket): void {
    // Small MQTT packets must not wait for Nagle's algorithm (publish→deliver latency).
    socket.setNoDelay(true);
    this.deps.handle(socket);
  }

  private async listen(server: Server, port: number, host: string): Promise<void> {
    server.on('connection', (raw: Socket) => {
      this.sockets.add(raw);
      // One listener function for every socket ('close' comes once): no closure per connection.
      raw.on('close', this.forget);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(); });
    });
  }
}

function portOf(server: Server | undefined): number {
  return (server?.address() as AddressInfo | null)?.port ?? 0;
}
