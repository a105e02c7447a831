import { TypedEmitter } from '../typed-emitter.js';

export type AdmissionEvents = {
  /** Accepting changed; `reason` is the first reason still blocking, or null once accepting again. */
  change: [accepting: boolean, reason: string | null];
};

/**
 * Whether the gateway takes new device telemetry right now. The broker's authorizePublish asks
 * `accepting()` for every QoS 1 telemetry/event message; it is a Set lookup, so it costs nothing on the
 * message path. Parts that protect the gateway (the disk guard today) block and unblock it by
 * reason; the API and the uplink drain keep working while it is blocked.
 */
export class Admission {
  readonly events = new TypedEmitter<AdmissionEvents>();
  private readonly blocked = new Map<string, string>();

  accepting(): boolean { return this.blocked.size === 0; }

  /** Code of the first reason new telemetry is refused (e.g. `disk_low`), or null. */
  get reason(): string | null {
    for (const code of this.blocked.keys()) return code;
    return null;
  }

  /** Human-readable explanation of `reason`, for logs and /stats. */
  get message(): string | null {
    for (const message of this.blocked.values()) return message;
    return null;
  }

  block(reason: string, message: string): void {
    const was = this.accepting();
    this.blocked.set(reason, message);
    if (was) this.events.emit('change', false, reason);
  }

  unblock(reason: string): void {
    if (!this.blocked.delete(reason)) return;
    if (this.accepting()) this.events.emit('change', true, null);
  }
}
