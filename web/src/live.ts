import { API_BASE, ApiError, type Api } from './api.js';
import { Emitter } from './emitter.js';
import { SseParser } from './sse.js';
import type { Device, DeviceRateEvent, HelloEvent, LiveStats, PresenceEvent, Stats } from './types.js';

/**
 * `live`: the event stream is open and delivering. `connecting`: opening it. `polling`: it is down,
 * the page polls GET /stats every few seconds and says so, and the stream is retried with backoff.
 */
export type LiveStatus = 'connecting' | 'live' | 'polling' | 'stopped';

export interface LiveEvents extends Record<string, unknown> {
  status: LiveStatus;
  hello: HelloEvent;
  stats: LiveStats;
  'device.online': PresenceEvent;
  'device.offline': PresenceEvent;
  'device.created': Device;
  'device.updated': Device;
  'device.deleted': { device_id: string };
  'device.rate': DeviceRateEvent;
  /** A GET /stats answer while polling. */
  poll: Stats;
}

const KNOWN = new Set(['hello', 'stats', 'device.online', 'device.offline', 'device.created', 'device.updated', 'device.deleted', 'device.rate']);
export const POLL_MS = 5_000;
const MAX_BACKOFF_MS = 30_000;

export class Live extends Emitter<LiveEvents> {
  status: LiveStatus = 'stopped';
  /** The last hello, for a view that opens after it arrived (its chart history). */
  lastHello: HelloEvent | undefined;
  private deviceId: string | undefined;
  private abort: AbortController | undefined;
  private watchdog: number | undefined;
  private pollTimer: number | undefined;
  private retryTimer: number | undefined;
  private failures = 0;
  private silenceMs = 11_000;
  private retryHintMs = 3_000;
  private running = false;

  constructor(private readonly api: Api) { super(); }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  stop(): void {
    this.running = false;
    this.abort?.abort();
    this.abort = undefined;
    window.clearTimeout(this.watchdog);
    window.clearTimeout(this.retryTimer);
    this.stopPolling();
    this.setStatus('stopped');
    this.clear();
  }

  /** Follows one device's message rate (the device page), or none. Reopens the stream. */
  watch(deviceId: string | undefined): void {
    if (deviceId === this.deviceId) return;
    this.deviceId = deviceId;
    if (!this.running) return;
    this.abort?.abort();
    window.clearTimeout(this.retryTimer);
    // A planned switch of streams is not an outage: the header keeps saying "Live".
    void this.connect(this.status === 'live');
  }

  private setStatus(status: LiveStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.emit('status', status);
  }

  private async connect(keepStatus = false): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    if (!keepStatus && this.status !== 'polling') this.setStatus('connecting');
    const query = this.deviceId ? `?device_id=${encodeURIComponent(this.deviceId)}` : '';
    try {
      const res = await fetch(`${API_BASE}/events${query}`, { headers: this.api.headers({ Accept: 'text/event-stream' }), cache: 'no-store', credentials: 'omit', signal: abort.signal });
      if (res.status === 401) { this.api.onUnauthorized?.(); return; }
      if (!res.ok || !res.body) throw new ApiError(res.status, `http_${res.status}`, `event stream answered ${res.status}`);
      await this.read(res.body, abort);
    } catch (err) {
      if (abort.signal.aborted && this.abort !== abort) return; // replaced by watch() or stopped
      void err;
    }
    if (this.running && this.abort === abort) this.scheduleRetry();
  }

  private async read(body: ReadableStream<Uint8Array>, abort: AbortController): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    this.kick(abort);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      this.kick(abort);
      for (const ev of parser.push(decoder.decode(value, { stream: true }))) this.dispatch(ev.event, ev.data);
      if (parser.retryMs !== undefined) this.retryHintMs = parser.retryMs;
    }
  }

  /** Any bytes (events or heartbeats) prove the stream alive; a silent one is torn down and retried. */
  private kick(abort: AbortController): void {
    window.clearTimeout(this.watchdog);
    this.watchdog = window.setTimeout(() => abort.abort(), this.silenceMs);
  }

  private dispatch(event: string, data: string): void {
    if (!KNOWN.has(event)) return;
    let payload: unknown;
    try { payload = JSON.parse(data); } catch { return; }
    if (event === 'hello') {
      const hello = payload as HelloEvent;
      this.lastHello = hello;
      // Stats come every tick: three missed ticks (and a margin) mean the stream is gone.
      this.silenceMs = Math.max(10_000, hello.tick_ms * 3 + 5_000);
      this.failures = 0;
      this.stopPolling();
      this.setStatus('live');
    }
    this.emit(event as keyof LiveEvents, payload as never);
  }

  private scheduleRetry(): void {
    window.clearTimeout(this.watchdog);
    this.failures += 1;
    this.startPolling();
    const delay = Math.min(MAX_BACKOFF_MS, Math.max(this.retryHintMs, 1000 * 2 ** (this.failures - 1)));
    // Jitter: many pages reconnecting after a gateway restart should not arrive at once.
    this.retryTimer = window.setTimeout(() => { if (this.running) void this.connect(); }, delay * (0.8 + Math.random() * 0.4));
  }

  private startPolling(): void {
    this.setStatus('polling');
    if (this.pollTimer !== undefined) return;
    const poll = async (): Promise<void> => {
      try {
        this.emit('poll', await this.api.get<Stats>('/stats'));
      } catch {
        // Unreachable as well: the status already says "not live"; keep trying.
      }
    };
    void poll();
    this.pollTimer = window.setInterval(() => void poll(), POLL_MS);
  }

  private stopPolling(): void {
    window.clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }
}
