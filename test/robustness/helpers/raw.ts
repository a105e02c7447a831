import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';

/** Where the gateway's TLS MQTT listener is and which CA it trusts. */
export interface Target { port: number; caPem: string; host?: string }

/**
 * A raw TLS connection to the broker for byte-level tests: what the broker sends is buffered and
 * read by exact length; `closed` says when (and whether) the broker ended the connection. No MQTT
 * library stands between the test and the wire.
 */
export class RawConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  /** performance.now() when the connection closed, undefined while open. */
  closedAt: number | undefined;
  readonly closed: Promise<void>;
  /** Bytes received in total. */
  received = 0;

  private constructor(readonly socket: tls.TLSSocket | net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => { this.closedAt = performance.now(); this.wake(); resolve(); }));
  }

  /**
   * A TLS connection that has finished its handshake; from `localAddress` when given (another loopback
   * address is another client host as far as the gateway can tell).
   */
  static async open(target: Target, opts: tls.ConnectionOptions = {}, localAddress?: string): Promise<RawConnection> {
    const tcp = localAddress === undefined ? undefined : net.connect({ host: target.host ?? '127.0.0.1', port: target.port, localAddress });
    tcp?.on('error', () => undefined);
    const socket = tls.connect({ ...(tcp ? { socket: tcp } : { host: target.host ?? '127.0.0.1', port: target.port }), ca: target.caPem, servername: 'localhost', ...opts });
    const conn = new RawConnection(socket);
    await Promise.race([once(socket, 'secureConnect'), conn.closed.then(() => { throw new Error('closed during the TLS handshake'); })]);
    socket.setNoDelay(true);
    return conn;
  }

  /** A plain TCP connection (plaintext sent to the TLS port). */
  static async openPlain(port: number): Promise<RawConnection> {
    const socket = net.connect({ host: '127.0.0.1', port });
    const conn = new RawConnection(socket);
    await once(socket, 'connect');
    return conn;
  }

  get isClosed(): boolean { return this.closedAt !== undefined; }

  /** Writes bytes; a write to a connection the broker already closed is not an error here. */
  send(bytes: Buffer): void {
    if (this.isClosed || this.socket.destroyed) return;
    this.socket.write(bytes);
  }

  /**
   * The next `n` bytes, or fewer if the connection closed or `timeoutMs` passed first (then `ended`
   * says which). What was read is consumed.
   */
  async read(n: number, timeoutMs: number): Promise<{ bytes: Buffer; ended: 'ok' | 'closed' | 'timeout' }> {
    const deadline = performance.now() + timeoutMs;
    while (this.buffer.length < n && !this.isClosed) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { this.waiter = undefined; resolve(); }, left);
        this.waiter = () => { clearTimeout(timer); this.waiter = undefined; resolve(); };
      });
    }
    const bytes = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(bytes.length);
    const ended = bytes.length === n ? 'ok' : this.isClosed ? 'closed' : 'timeout';
    return { bytes: Buffer.from(bytes), ended };
  }

  /**
   * Resolves when the connection closes (true) or `done(received bytes not read yet)` holds after some
   * data arrived (true), or after `timeoutMs` (false).
   */
  async settle(timeoutMs: number, done: (pending: Buffer) => boolean): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!this.isClosed && !done(this.buffer)) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { this.waiter = undefined; resolve(); }, left);
        this.waiter = () => { clearTimeout(timer); this.waiter = undefined; resolve(); };
      });
    }
    return true;
  }

  /** Bytes received and not read yet. */
  pending(): Buffer { return Buffer.from(this.buffer); }

  /** Resolves true when the broker closed the connection within `ms`, false otherwise (it stays open). */
  async closedWithin(ms: number): Promise<boolean> {
    if (this.isClosed) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  destroy(): void { this.socket.destroy(); }

  private wake(): void { this.waiter?.(); }
}

/** Runs `task` over `items` with at most `limit` running at once; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, task: (item: T, worker: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async (_, worker) => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T, worker);
    }
  }));
  return results;
}
