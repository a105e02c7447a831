import { PassThrough } from 'node:stream';
import type { Service } from '../../lifecycle.js';
import type { Logger } from '../../log.js';
import type { Meter } from '../../metering/meter.js';
import type { RateTotals } from '../../metering/rates.js';
import type { UsageCounters } from '../../metering/usage.js';
import { GatewayError } from '../../errors.js';
import { deviceView } from '../views.js';
import { liveStats, tickRates, windowRates, type LiveStats, type LiveStatsDeps, type TickRates } from './live-stats.js';
import { RateHistory } from './history.js';
import { SSE_HEARTBEAT, sseFrame, sseRetry } from './sse.js';

export interface EventHubLimits {
  /** Streams open at once; more get a 503. Each costs a socket and a little memory on a small board. */
  maxStreams: number;
  /** How often the `stats` event (and a watched device's `device.rate`) is sent. */
  tickMs: number;
  /** Comment lines keep idle connections from being closed by proxies and NAT. */
  heartbeatMs: number;
  /** What the hello event's chart history covers (15 minutes, the overview chart's span). */
  historyMs: number;
  /** A client that falls this far behind (a phone that went to sleep with the page open) is dropped. */
  maxBufferedBytes: number;
  /** What a client should wait before reconnecting (the `retry:` field). */
  retryMs: number;
}

export const DEFAULT_EVENT_LIMITS: EventHubLimits = {
  maxStreams: 20,
  tickMs: 2_000,
  heartbeatMs: 15_000,
  historyMs: 15 * 60_000,
  maxBufferedBytes: 256 * 1024,
  retryMs: 3_000,
};

export interface EventHubDeps extends LiveStatsDeps {
  meter: Meter;
  log: Logger;
  limits?: Partial<EventHubLimits>;
}

interface Subscriber {
  stream: PassThrough;
  /** The device whose page is open, for `device.rate` events. */
  deviceId: string | undefined;
}

/** What the first event of every stream carries: the current picture, so the page can draw at once. */
export interface HelloEvent {
  live: LiveStats;
  history: ReturnType<RateHistory['toJSON']>;
  tick_ms: number;
  heartbeat_ms: number;
}

/** A watched device's rates over the last tick and its counters today. */
export interface DeviceRateEvent extends TickRates {
  device_id: string;
  today: UsageCounters;
}

/**
 * Fan-out of live events to the dashboard's streams (GET /v1/iot/events). Everything a tick sends is
 * computed once and the same bytes are written to every subscriber, so ten open dashboards cost
 * about what one does. Presence and registry events are forwarded as they happen.
 *
 * The tick also runs with no subscriber, because it keeps the 15-minute rate history that a newly
 * opened page draws from; without subscribers it only reads the rate totals (a few additions).
 */
export class EventHub implements Service {
  readonly name = 'events';
  readonly limits: EventHubLimits;
  private readonly subscribers = new Set<Subscriber>();
  private readonly history: RateHistory;
  private readonly deviceBaselines = new Map<string, { counters: UsageCounters; at: number }>();
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: Array<() => void> = [];
  private prevTotals: RateTotals | undefined;
  private prevAt = 0;
  private lastRates: TickRates | null = null;

  constructor(private readonly deps: EventHubDeps) {
    this.limits = { ...DEFAULT_EVENT_LIMITS, ...deps.limits };
    this.history = new RateHistory(Math.max(1, Math.round(this.limits.historyMs / this.limits.tickMs)));
  }

  /** Streams open now. */
  get size(): number { return this.subscribers.size; }

  async start(): Promise<void> {
    const { presence, registry } = this.deps;
    const onPresence = (deviceId: string, online: boolean): void => {
      this.broadcast(online ? 'device.online' : 'device.offline', { device_id: deviceId, online, last_seen: presence.lastSeenIso(deviceId) });
    };
    this.unsubscribe.push(
      presence.events.on('online', (id) => onPresence(id, true)),
      presence.events.on('offline', (id) => onPresence(id, false)),
      registry.events.on('created', (d) => this.broadcast('device.created', deviceView(d, presence))),
      registry.events.on('updated', (d) => this.broadcast('device.updated', deviceView(d, presence))),
      registry.events.on('deleted', (id) => this.broadcast('device.deleted', { device_id: id })),
    );
    // The first tick already has a rate to report: its baseline is now, not the tick before it.
    const totals = this.deps.stats.rates?.().totals;
    if (totals) { this.prevTotals = { ...totals }; this.prevAt = Date.now(); }
    // unref: an open dashboard must never keep a stopping process alive.
    this.timers.push(setInterval(() => this.tick(), this.limits.tickMs).unref());
    this.timers.push(setInterval(() => this.writeAll(SSE_HEARTBEAT), this.limits.heartbeatMs).unref());
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    for (const sub of [...this.subscribers]) sub.stream.end();
    this.subscribers.clear();
    this.deviceBaselines.clear();
  }

  /**
   * Opens a stream (the response body of GET /events). Throws a 503 when `maxStreams` are open.
   * The stream leaves the hub when it closes, whichever side closes it.
   */
  open(deviceId?: string): PassThrough {
    if (this.subscribers.size >= this.limits.maxStreams) {
      throw new GatewayError('busy', `too many event streams are open (${this.limits.maxStreams}); close a dashboard or retry later`, { retryAfter: Math.ceil(this.limits.retryMs / 1000) });
    }
    const stream = new PassThrough();
    const sub: Subscriber = { stream, deviceId };
    this.subscribers.add(sub);
    stream.once('close', () => this.remove(sub));
    const hello: HelloEvent = {
      live: this.snapshot(this.lastRates),
      history: this.history.toJSON(),
      tick_ms: this.limits.tickMs,
      heartbeat_ms: this.limits.heartbeatMs,
    };
    stream.write(sseRetry(this.limits.retryMs));
    stream.write(sseFrame('hello', hello));
    if (deviceId !== undefined && !this.deviceBaselines.has(deviceId)) {
      this.deviceBaselines.set(deviceId, { counters: this.deps.meter.deviceToday(deviceId), at: Date.now() });
    }
    return stream;
  }

  /** One tick: rates since the last one, the history, and (with subscribers) the events. Public for tests. */
  tick(now = Date.now()): void {
    const source = this.deps.stats.rates?.();
    let rates: TickRates | null = null;
    if (source) {
      rates = tickRates(this.prevTotals, source.totals, (now - this.prevAt) / 1000);
      this.prevTotals = { ...source.totals };
      this.prevAt = now;
      if (rates) this.history.push(now, rates.in_per_sec, rates.out_per_sec);
    }
    this.lastRates = rates;
    if (this.subscribers.size === 0) return;
    this.writeAll(sseFrame('stats', liveStats(this.deps, rates, windowRates(source), now)));
    this.tickDevices(now);
  }

  /** `device.rate` for each device some page watches: one counter lookup and one frame per device. */
  private tickDevices(now: number): void {
    const watched = new Set<string>();
    for (const sub of this.subscribers) if (sub.deviceId !== undefined) watched.add(sub.deviceId);
    for (const id of this.deviceBaselines.keys()) if (!watched.has(id)) this.deviceBaselines.delete(id);
    for (const id of watched) {
      const counters = this.deps.meter.deviceToday(id);
      const base = this.deviceBaselines.get(id);
      this.deviceBaselines.set(id, { counters, at: now });
      if (!base) continue;
      const seconds = Math.max(0.001, (now - base.at) / 1000);
      // A new day starts the counters at zero again: a negative difference means "since midnight".
      const per = (a: number, b: number): number => Math.round(((b >= a ? b - a : b) / seconds) * 100) / 100;
      const event: DeviceRateEvent = {
        device_id: id,
        in_per_sec: per(base.counters.messages_in, counters.messages_in),
        out_per_sec: per(base.counters.messages_out, counters.messages_out),
        bytes_in_per_sec: per(base.counters.bytes_in, counters.bytes_in),
        bytes_out_per_sec: per(base.counters.bytes_out, counters.bytes_out),
        today: counters,
      };
      const frame = sseFrame('device.rate', event);
      for (const sub of this.subscribers) if (sub.deviceId === id) this.write(sub, frame);
    }
  }

  private snapshot(rates: TickRates | null): LiveStats {
    return liveStats(this.deps, rates, windowRates(this.deps.stats.rates?.()), Date.now());
  }

  private broadcast(event: string, data: unknown): void {
    if (this.subscribers.size > 0) this.writeAll(sseFrame(event, data));
  }

  private writeAll(frame: Buffer): void {
    for (const sub of this.subscribers) this.write(sub, frame);
  }

  private write(sub: Subscriber, frame: Buffer): void {
    const s = sub.stream;
    if (s.writableLength + s.readableLength > this.limits.maxBufferedBytes) {
      this.deps.log.warn({ event: 'events_stream_dropped', buffered: s.writableLength + s.readableLength }, 'dropping an event stream that stopped reading');
      s.destroy();
      return;
    }
    s.write(frame);
  }

  private remove(sub: Subscriber): void {
    this.subscribers.delete(sub);
  }
}
