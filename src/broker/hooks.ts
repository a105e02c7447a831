import type { Socket } from 'node:net';
import type { AedesOptions, AedesPublishPacket, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Meter } from '../metering/meter.js';
import type { MessageRates } from '../metering/rates.js';
import type { DeviceRegistry } from '../devices/registry.js';
import { DEVICE_ID_PATTERN } from '../devices/device.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { mayPublish, mayReceive, maySubscribe, type MqttPrincipal } from './acl.js';
import type { Authenticator } from './authenticate.js';
import { connackError } from './connack.js';
import type { AckHold, Done, Intake } from './intake.js';
import { PubackGate } from './puback-gate.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * What the gateway knows about one connection, from CONNECT on. Kept small: an idle device's
 * connection holds it for days, and a gateway holds thousands of them.
 */
export interface ClientSession {
  /** Set once authenticate() admitted the connection. */
  principal: MqttPrincipal | undefined;
  /** For a device: the password hash it logged in with (a rotation or a disable makes it stale). */
  passwordHash: string | undefined;
  address: string;
  /** The CONNECT, from preConnect until authenticate() has read its keepalive and will topic. */
  connect: ConnectPacket | undefined;
  /** Topic filters granted, to cap them per client (max_subscriptions_per_client); made at the first. */
  subscriptions: Set<string> | undefined;
}

type HookOptions = Required<Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>>;

/** Topics go into logs truncated: a client chooses them. */
const LOGGED_TOPIC_CHARS = 200;

/**
 * Every aedes authorization hook, in one module: preConnect, authenticate, authorizePublish,
 * authorizeSubscribe and authorizeForward. aedes' defaults allow everything; each of these denies
 * what the ACL (src/broker/acl.ts) does not allow. The per-message hooks (authorizePublish,
 * authorizeForward) do a WeakMap lookup and string comparisons, nothing more, before the intake.
 */
export class BrokerHooks {
  private readonly sessions = new WeakMap<Client, ClientSession>();
  private stopping = false;

  constructor(private readonly deps: {
    mqtt: GatewayConfig['mqtt'];
    log: Logger;
    registry: DeviceRegistry;
    meter: Meter;
    rates: MessageRates;
    authenticator: Authenticator;
    intake: Intake;
    /** Undefined when mqtt.rate_limit is 0. */
    limiter: RateLimiter | undefined;
  }) {}

  sessionOf(client: Client): ClientSession | undefined { return this.sessions.get(client); }

  /**
   * The gateway is stopping: every CONNECT is refused, and the wills of the connections the broker is
   * about to close are not published. Those devices did not fail, the gateway went away (its own
   * uplink will says so); and a will published while the broker shuts down would race the session
   * store closing. aedes deletes a refused will, so it is not replayed after the restart either.
   */
  beginStop(): void { this.stopping = true; }

  options(): HookOptions {
    return {
      preConnect: (client, packet, callback) => this.preConnect(client, packet, callback),
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, callback) => this.authorizePublish(client, packet, callback),
      authorizeSubscribe: (client, sub, callback) => this.authorizeSubscribe(client, sub, callback),
      authorizeForward: (client, packet) => this.authorizeForward(client, packet),
    };
  }

  /** Notes what authenticate() needs from the CONNECT that aedes does not pass it (will, keepalive). */
  private preConnect(client: Client, packet: ConnectPacket, callback: (error: Error | null, success: boolean) => void): void {
    if (this.stopping) { callback(new Error('the gateway is stopping'), false); return; }
    this.sessions.set(client, {
      principal: undefined,
      passwordHash: undefined,
      address: (client.conn as Partial<Socket>).remoteAddress ?? '',
      connect: packet,
      subscriptions: undefined,
    });
    callback(null, true);
  }

  private authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: Parameters<HookOptions['authenticate']>[3]): void {
    const session = this.sessions.get(client);
    const connect = session?.connect;
    if (!session || !connect) { done(connackError(new GatewayError('internal', 'no session for this connection')), false); return; }
    session.connect = undefined;
    const attempt = {
      clientId: client.id, username, password, keepalive: connect.keepalive ?? 0, willTopic: connect.will?.topic,
      address: session.address, closed: () => client.closed,
    };
    // aedes' parser keeps the CONNECT for the connection's life (mqtt-packet's `settings`): without
    // this, every connection would hold its plaintext password, and the read chunk it is a view of.
    connect.password = undefined;
    this.deps.authenticator.admit(attempt).then((admitted) => {
      if (!admitted) { done(connackError(new GatewayError('not_ready', 'the connection closed while waiting')), false); return; }
      session.principal = admitted.principal;
      session.passwordHash = admitted.passwordHash;
      done(null, true);
    }, (err: unknown) => {
      done(connackError(isGatewayError(err) ? err : new GatewayError('internal', 'authentication failed', { cause: err })), false);
    });
  }

  /**
   * A PUBLISH from a client, or a will being published for one (then `packet` has no `cmd`, and
   * `client` is null for a will left over from before a restart). Calling back with an error makes
   * aedes close the connection; the message is then neither acknowledged nor routed.
   */
  private authorizePublish(client: Client | null, packet: PublishPacket, callback: Done): void {
    const will = (packet as { cmd?: string }).cmd !== 'publish';
    if (will && this.stopping) { callback(new GatewayError('not_ready', 'the gateway is stopping')); return; }
    const principal = client === null ? storedWillPrincipal(packet) : this.sessions.get(client)?.principal;
    if (!principal) { callback(new GatewayError('forbidden', 'not authenticated')); return; }
    const topic = packet.topic;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;

    if (!mayPublish(principal, topic)) {
      this.refusePublish(principal, topic, will, `may not publish to ${topic.slice(0, LOGGED_TOPIC_CHARS)}`);
      callback(new GatewayError('forbidden', `publishing to ${topic} is not allowed`));
      return;
    }
    if (payload.length > this.deps.mqtt.max_message_bytes) {
      this.refusePublish(principal, topic, will, `a ${payload.length}-byte message is over the ${this.deps.mqtt.max_message_bytes}-byte limit`);
      callback(new GatewayError('payload_too_large', `messages may have at most ${this.deps.mqtt.max_message_bytes} bytes`));
      return;
    }
    // Applications send commands and configuration; they are neither metered nor sent upstream.
    if (principal.kind === 'app') { callback(null); return; }

    const deviceId = principal.deviceId;
    const qos = packet.qos;
    if (will) {
      // Published after the connection is gone: only while the device still exists and is enabled.
      if (this.deps.registry.get(deviceId)?.status !== 'active') { callback(new GatewayError('forbidden', 'device no longer active')); return; }
      this.deps.intake.accept(deviceId, topic, payload, qos, callback);
      return;
    }
    if (client === null) { this.deps.intake.accept(deviceId, topic, payload, qos, callback); return; }
    // A QoS 1 PUBACK waits in the connection's gate for the message's write; aedes routes it meanwhile.
    const ackHold: AckHold | undefined = qos === 1 ? PubackGate.of(client.conn, client) : undefined;
    const messageId = packet.messageId ?? 0;
    const limiter = this.deps.limiter;
    if (!limiter) { this.deps.intake.accept(deviceId, topic, payload, qos, callback, ackHold, messageId); return; }
    limiter.admit(deviceId, client, () => {
      if (!client.closed) this.deps.intake.accept(deviceId, topic, payload, qos, callback, ackHold, messageId);
    });
  }

  private refusePublish(principal: MqttPrincipal, topic: string, will: boolean, reason: string): void {
    const who = principal.kind === 'device' ? { device_id: principal.deviceId } : { app: principal.name };
    if (principal.kind === 'device') this.deps.meter.count(principal.deviceId, 'rejected', 0);
    this.deps.log.warn({ event: will ? 'mqtt_will_refused' : 'mqtt_publish_refused', ...who, topic: topic.slice(0, LOGGED_TOPIC_CHARS) },
      `${will ? 'will' : 'publish'} refused: ${reason}${will ? '' : ' (connection closed)'}`);
  }

  /** Calling back with a null subscription makes aedes answer SUBACK 0x80 for that filter. */
  private authorizeSubscribe(client: Client, sub: Subscription, callback: (error: Error | null, subscription?: Subscription | null) => void): void {
    const session = this.sessions.get(client);
    const principal = session?.principal;
    if (!session || !principal) { callback(new GatewayError('forbidden', 'not authenticated')); return; }
    const topic = sub.topic;
    if (!maySubscribe(principal, topic)) {
      this.deps.log.info({ event: 'mqtt_subscribe_refused', client_id: client.id, topic: topic.slice(0, LOGGED_TOPIC_CHARS) }, 'subscription refused by the ACL');
      callback(null, null);
      return;
    }
    const granted = session.subscriptions ??= new Set();
    if (!granted.has(topic) && granted.size >= this.deps.mqtt.max_subscriptions_per_client) {
      this.deps.log.info({ event: 'mqtt_subscribe_refused', client_id: client.id, topic: topic.slice(0, LOGGED_TOPIC_CHARS), limit: this.deps.mqtt.max_subscriptions_per_client },
        'subscription refused: too many subscriptions (mqtt.max_subscriptions_per_client)');
      callback(null, null);
      return;
    }
    granted.add(topic);
    callback(null, sub);
  }

  /** aedes reports UNSUBSCRIBEs (and the implicit ones at close) so the cap counts only live filters. */
  unsubscribed(client: Client, topics: readonly string[]): void {
    const session = this.sessions.get(client);
    const granted = session?.subscriptions;
    if (granted) for (const topic of topics) granted.delete(topic);
  }

  /**
   * Called for every delivery to a client (live, queued or retained): the ACL once more, and the
   * delivery's counters for the receiving device — the cheapest point that sees each delivery once.
   */
  private authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const principal = this.sessions.get(client)?.principal;
    if (!principal || !mayReceive(principal, packet.topic)) return null;
    const payload = packet.payload;
    const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    this.deps.rates.record('out', bytes);
    if (principal.kind === 'device') this.deps.meter.count(principal.deviceId, 'out', bytes);
    return packet;
  }
}

/**
 * A will stored before a restart is published by aedes with no client. Its `clientId` names the device
 * (a device's client id is its id); wills of applications cannot be attributed, so they are dropped.
 */
function storedWillPrincipal(packet: PublishPacket): MqttPrincipal | undefined {
  const clientId = (packet as { clientId?: unknown }).clientId;
  return typeof clientId === 'string' && DEVICE_ID_PATTERN.test(clientId) ? { kind: 'device', deviceId: clientId } : undefined;
}
