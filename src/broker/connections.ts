import type { Client } from 'aedes';
import type { Presence } from '../devices/presence.js';
import type { MqttPrincipal } from './acl.js';

/**
 * The live connection of each device (one at most: a second CONNECT with the same client id takes
 * over, MQTT-3.1.4-2) and the application connections by API key name. It drives presence and lets
 * the gateway close a device's connection when the device is disabled, deleted or its password
 * rotated, and an application's when its key is revoked.
 */
export class Connections {
  private readonly devices = new Map<string, Client>();
  /**
   * Connections counted as open. aedes can report a connection's end ('clientDisconnect') before it
   * reports it ready ('clientReady'), when the socket closes while the CONNECT is being finished;
   * only a connection that was opened here is closed here, and a closed one is never opened.
   */
  private readonly open = new WeakSet<Client>();
  private readonly apps = new Map<string, Set<Client>>();

  constructor(private readonly presence: Presence) {}

  /** The connection is authenticated and its CONNACK sent. */
  opened(client: Client, principal: MqttPrincipal): void {
    if (client.closed || this.open.has(client)) return;
    this.open.add(client);
    if (principal.kind === 'app') {
      const clients = this.apps.get(principal.name) ?? new Set<Client>();
      clients.add(client);
      this.apps.set(principal.name, clients);
      return;
    }
    this.devices.set(principal.deviceId, client);
    this.presence.connected(principal.deviceId);
  }

  closed(client: Client, principal: MqttPrincipal): void {
    if (!this.open.has(client)) return;
    this.open.delete(client);
    if (principal.kind === 'app') {
      const clients = this.apps.get(principal.name);
      clients?.delete(client);
      if (clients?.size === 0) this.apps.delete(principal.name);
      return;
    }
    // A takeover closes the old connection first; only the current one decides presence.
    if (this.devices.get(principal.deviceId) !== client) return;
    this.devices.delete(principal.deviceId);
    this.presence.disconnected(principal.deviceId);
  }

  device(deviceId: string): Client | undefined { return this.devices.get(deviceId); }

  /** The open connections of applications that logged in with the API key `name`. */
  appsWithKey(name: string): Client[] { return [...(this.apps.get(name) ?? [])]; }

  /**
   * Whether the device is connected now with a subscription to exactly `topic` (the ACL allows a
   * device no wildcards, so an exact match is the only kind). aedes keeps a client's subscriptions in
   * `client.subscriptions`, keyed by filter; its typings do not declare the field.
   */
  isSubscribed(deviceId: string, topic: string): boolean {
    const client = this.devices.get(deviceId);
    if (!client || client.closed) return false;
    const subscriptions = (client as unknown as { subscriptions?: Record<string, unknown> }).subscriptions;
    return subscriptions?.[topic] !== undefined;
  }

  get deviceCount(): number { return this.devices.size; }
  get appCount(): number {
    let count = 0;
    for (const clients of this.apps.values()) count += clients.size;
    return count;
  }
}
