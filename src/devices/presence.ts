import { TypedEmitter } from '../typed-emitter.js';

export type PresenceEvents = {
  online: [deviceId: string];
  offline: [deviceId: string];
};

/**
 * Live connection state of devices, kept by the broker and read by the API, /stats and /events.
 * In memory only: after a restart every device is offline until it reconnects.
 */
export class Presence {
  readonly events = new TypedEmitter<PresenceEvents>();
  private readonly online = new Set<string>();
  private readonly lastSeen = new Map<string, number>();

  connected(deviceId: string): void {
    this.lastSeen.set(deviceId, Date.now());
    if (!this.online.has(deviceId)) {
      this.online.add(deviceId);
      this.events.emit('online', deviceId);
    }
  }

  disconnected(deviceId: string): void {
    this.lastSeen.set(deviceId, Date.now());
    if (this.online.delete(deviceId)) this.events.emit('offline', deviceId);
  }

  /** Any packet from the device. Cheap: called on the message path. */
  seen(deviceId: string): void { this.lastSeen.set(deviceId, Date.now()); }

  forget(deviceId: string): void { this.online.delete(deviceId); this.lastSeen.delete(deviceId); }

  isOnline(deviceId: string): boolean { return this.online.has(deviceId); }

  lastSeenIso(deviceId: string): string | null {
    const t = this.lastSeen.get(deviceId);
    return t === undefined ? null : new Date(t).toISOString();
  }

  get onlineCount(): number { return this.online.size; }
}
