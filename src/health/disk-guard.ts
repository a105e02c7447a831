import type { Logger } from '../log.js';
import { TypedEmitter } from '../typed-emitter.js';
import type { Admission } from './admission.js';
import { diskUsage } from './disk.js';
import type { DiskUsage } from './types.js';

export type DiskGuardEvents = {
  low: [usage: DiskUsage];
  ok: [usage: DiskUsage];
};

/** While free space is within this multiple of the floor, it is checked every second. */
const NEAR_FLOOR_FACTOR = 2;
const NEAR_FLOOR_POLL_MS = 1000;
/**
 * Space must come back a little above the floor before telemetry is taken again, so that a disk
 * hovering at the floor (the outbox draining while devices keep sending) does not flap every second.
 */
const RECOVERY_MARGIN = 0.05;

/**
 * Protects the data filesystem: below `floorBytes` free, it blocks the gateway's admission of new
 * telemetry (the API and the uplink drain keep working, and draining frees space), and unblocks it by
 * itself once space returns. Free space is read with statfs at every health sample and, while it is
 * within twice the floor, every second — a statfs costs microseconds, a full disk costs data.
 */
export class DiskGuard {
  readonly events = new TypedEmitter<DiskGuardEvents>();
  private lowNow = false;
  private poll: NodeJS.Timeout | undefined;
  private latest: DiskUsage | null = null;
  private stopped = true;
  private failedOnce = false;

  constructor(private readonly deps: { dir: string; floorBytes: number; admission: Admission; log: Logger }) {}

  get low(): boolean { return this.lowNow; }
  get usage(): DiskUsage | null { return this.latest; }

  async start(): Promise<void> {
    this.stopped = false;
    await this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
  }

  /** Reads free space and updates the state; returns the usage (or the last known one on error). */
  async check(): Promise<DiskUsage | null> {
    let usage: DiskUsage;
    try {
      usage = await diskUsage(this.deps.dir);
    } catch (err) {
      if (!this.failedOnce) this.deps.log.error({ event: 'disk_check_failed', dir: this.deps.dir, err }, 'cannot read free space of the data directory');
      this.failedOnce = true;
      return this.latest;
    }
    this.failedOnce = false;
    this.latest = usage;
    if (this.stopped) return usage;
    this.apply(usage);
    this.schedule(usage);
    return usage;
  }

  private apply(usage: DiskUsage): void {
    const floor = this.deps.floorBytes;
    if (floor <= 0) return;
    if (!this.lowNow && usage.free_bytes < floor) {
      this.lowNow = true;
      const message = `only ${mib(usage.free_bytes)} MiB free on the data filesystem (floor ${mib(floor)} MiB): new telemetry is refused until space returns`;
      this.deps.admission.block('disk_low', message);
      this.deps.log.error({ event: 'disk_low', free_bytes: usage.free_bytes, floor_bytes: floor, dir: usage.path }, message);
      this.events.emit('low', usage);
    } else if (this.lowNow && usage.free_bytes >= floor * (1 + RECOVERY_MARGIN)) {
      this.lowNow = false;
      this.deps.admission.unblock('disk_low');
      this.deps.log.info({ event: 'disk_ok', free_bytes: usage.free_bytes, floor_bytes: floor, dir: usage.path }, `free space is back (${mib(usage.free_bytes)} MiB): taking telemetry again`);
      this.events.emit('ok', usage);
    }
  }

  private schedule(usage: DiskUsage): void {
    const near = this.deps.floorBytes > 0 && usage.free_bytes < this.deps.floorBytes * NEAR_FLOOR_FACTOR;
    if (near && !this.poll) {
      this.poll = setInterval(() => { void this.check(); }, NEAR_FLOOR_POLL_MS);
      // Stop() clears it; unref only guards against a stop that never comes (a crashed start).
      this.poll.unref();
    } else if (!near && this.poll) {
      clearInterval(this.poll);
      this.poll = undefined;
    }
  }
}

function mib(bytes: number): string { return (bytes / 1048576).toFixed(1); }
