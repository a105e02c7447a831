/**
 * A lean MQTT 3.1.1 client for load generation: PUBLISH and PUBACK packets are built and parsed by
 * hand into pre-sized buffers (no per-message objects, one socket write per batch of messages), so
 * that on a 2-core machine the generator takes as little CPU from the broker as possible. CONNECT and
 * SUBSCRIBE, which happen once, are built by mqtt-packet. Not a general client: no QoS 2, no
 * reconnect of its own, no offline queue.
 */
import net from 'node:net';
import tls from 'node:tls';
import mqttPacket from 'mqtt-packet';
import { readVarint, varintLength, writeVarint, type VarintRead } from '../../src/broker/remaining-length.js';
import { PUBACK_BYTES, writePuback } from '../../src/broker/puback-gate.js';

export interface BrokerAddress {
  port: number;
  /** PEM of the CA to trust; plain TCP when absent. */
  ca?: string;
}

export interface LeanOptions {
  broker: BrokerAddress;
  clientId: string;
  username?: string;
  password?: string;
  keepalive?: number;
  clean?: boolean;
}

/** Packet types (the high nibble of the first byte). */
const CONNACK = 2;
const PUBLISH = 3;
const PUBACK = 4;
const SUBACK = 9;
const PINGRESP = 13;

const PINGREQ_BYTES = Buffer.from([0xc0, 0x00]);

// The remaining-length varint, as the gateway writes it (src/broker/publish-bytes.ts).
export { varintLength, writeVarint };

/**
 * A PUBLISH packet for one topic and a fixed-size payload, pre-encoded once; `writeInto` copies it
 * into a send buffer and patches the packet id (QoS 1) and whatever the payload writer changes.
 */
export class PublishTemplate {
  readonly bytes: Buffer;
  /** Offset of the packet id (QoS 1) and of the payload inside `bytes`. */
  readonly packetIdAt: number;
  readonly payloadAt: number;

  constructor(topic: string, payload: Buffer, readonly qos: 0 | 1) {
    const topicBytes = Buffer.byteLength(topic);
    const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + payload.length;
    this.bytes = Buffer.alloc(1 + varintLength(remaining) + remaining);
    this.bytes[0] = 0x30 | (qos << 1);
    let at = writeVarint(this.bytes, 1, remaining);
    at = this.bytes.writeUInt16BE(topicBytes, at);
    at += this.bytes.write(topic, at, 'utf8');
    this.packetIdAt = at;
    if (qos > 0) at += 2;
    this.payloadAt = at;
    payload.copy(this.bytes, at);
  }

  get length(): number { return this.bytes.length; }

  /** Copies the packet to `buf` at `offset` with `packetId`; returns the offset after it. */
  writeInto(buf: Buffer, offset: number, packetId: number): number {
    this.bytes.copy(buf, offset);
    if (this.qos > 0) buf.writeUInt16BE(packetId, offset + this.packetIdAt);
    return offset + this.bytes.length;
  }
}

export type PublishHandler = (topic: Buffer, payload: Buffer, qos: number) => void;

/**
 * One connection. `onPublish` sees every incoming PUBLISH (topic and payload are views into the
 * receive buffer, valid during the call); QoS 1 deliveries are acknowledged automatically, one
 * write per received chunk. `onPuback` sees the packet id of every PUBACK.
 */
export class LeanClient {
  socket: net.Socket | undefined;
  onPublish: PublishHandler | undefined;
  onPuback: ((packetId: number) => void) | undefined;
  onClose: (() => void) | undefined;
  private pending: Buffer | undefined;
  /** The remaining length of the packet being read (readVarint writes it here). */
  private readonly remaining: VarintRead = { value: 0, end: 0 };
  private connack: { resolve: (rc: number) => void; reject: (e: Error) => void } | undefined;
  private suback: { resolve: (granted: number[]) => void; reject: (e: Error) => void } | undefined;
  /** Packet ids of QoS 1 deliveries to acknowledge after the current chunk. */
  private acks: number[] = [];
  private pinger: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(readonly opts: LeanOptions) {}

  get connected(): boolean { return this.socket !== undefined && !this.closed; }

  /** Opens the socket, sends CONNECT; resolves with the CONNACK return code (0 = accepted). */
  connect(timeoutMs = 120_000): Promise<number> {
    const { broker } = this.opts;
    this.closed = false;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`no CONNACK for ${this.opts.clientId} within ${timeoutMs} ms`)); this.destroy(); }, timeoutMs);
      this.connack = {
        resolve: (rc) => { clearTimeout(timer); resolve(rc); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      const onOpen = (): void => {
        socket.setNoDelay(true);
        socket.write(mqttPacket.generate({
          cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: this.opts.clean ?? true,
          clientId: this.opts.clientId, keepalive: this.opts.keepalive ?? 600,
          ...(this.opts.username !== undefined ? { username: this.opts.username } : {}),
          ...(this.opts.password !== undefined ? { password: Buffer.from(this.opts.password) } : {}),
        }));
      };
      const socket = broker.ca
        ? tls.connect({ host: '127.0.0.1', port: broker.port, ca: broker.ca, servername: 'localhost' }, onOpen)
        : net.connect({ host: '127.0.0.1', port: broker.port }, onOpen);
      this.socket = socket;
      socket.on('data', (chunk: Buffer) => this.receive(chunk));
      socket.on('error', (err) => this.fail(err));
      socket.on('close', () => this.fail(new Error('connection closed')));
      const keepalive = this.opts.keepalive ?? 600;
      if (keepalive > 0) {
        this.pinger = setInterval(() => { if (!this.closed) socket.write(PINGREQ_BYTES); }, (keepalive * 1000) / 2);
        this.pinger.unref();
      }
    });
  }

  subscribe(filter: string, qos: 0 | 1): Promise<number[]> {
    const socket = this.requireSocket();
    return new Promise<number[]>((resolve, reject) => {
      this.suback = { resolve, reject };
      socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos }] }));
    });
  }

  /** Writes raw bytes (pre-built packets); false = wait for 'drain'. */
  write(bytes: Buffer): boolean {
    return this.requireSocket().write(bytes);
  }

  /** Closes politely (DISCONNECT) and waits for the socket to close. */
  async end(): Promise<void> {
    const socket = this.socket;
    if (!socket || this.closed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end(Buffer.from([0xe0, 0x00]));
      setTimeout(() => { socket.destroy(); }, 2_000).unref();
    });
  }

  destroy(): void {
    this.socket?.destroy();
  }

  private requireSocket(): net.Socket {
    if (!this.socket || this.closed) throw new Error(`${this.opts.clientId} is not connected`);
    return this.socket;
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pinger) clearInterval(this.pinger);
    this.connack?.reject(err);
    this.suback?.reject(err);
    this.connack = undefined;
    this.suback = undefined;
    this.onClose?.();
  }

  private receive(chunk: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let pos = 0;
    while (pos + 2 <= buf.length) {
      // Remaining length: 1-4 bytes after the first.
      if (!readVarint(buf, pos + 1, this.remaining)) break;
      const { value: len, end: at } = this.remaining;
      if (at + len > buf.length) break;
      this.handle(buf, pos, at, len);
      pos = at + len;
    }
    if (pos < buf.length) this.pending = Buffer.from(buf.subarray(pos));
    if (this.acks.length > 0 && this.socket && !this.closed) {
      const out = Buffer.allocUnsafe(PUBACK_BYTES * this.acks.length);
      this.acks.forEach((id, i) => writePuback(out, i * PUBACK_BYTES, id));
      this.acks.length = 0;
      this.socket.write(out);
    }
  }

  /** One packet: first byte at `start`, body from `body` for `len` bytes. */
  private handle(buf: Buffer, start: number, body: number, len: number): void {
    const first = buf[start] as number;
    switch (first >> 4) {
      case PUBLISH: {
        const qos = (first >> 1) & 3;
        const topicLen = buf.readUInt16BE(body);
        const topicEnd = body + 2 + topicLen;
        let payloadAt = topicEnd;
        if (qos > 0) {
          const id = buf.readUInt16BE(topicEnd);
          payloadAt += 2;
          this.acks.push(id);
        }
        this.onPublish?.(buf.subarray(body + 2, topicEnd), buf.subarray(payloadAt, body + len), qos);
        break;
      }
      case PUBACK:
        this.onPuback?.(buf.readUInt16BE(body));
        break;
      case CONNACK: {
        const rc = buf[body + 1] as number;
        const c = this.connack;
        this.connack = undefined;
        c?.resolve(rc);
        break;
      }
      case SUBACK: {
        const granted = [...buf.subarray(body + 2, body + len)];
        const s = this.suback;
        this.suback = undefined;
        s?.resolve(granted);
        break;
      }
      case PINGRESP:
        break;
      default:
        break;
    }
  }
}
