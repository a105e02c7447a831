import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type Client } from 'aedes';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Service } from '../lifecycle.js';
import type { Store } from '../store/store.js';
import type { GroupCommit } from '../store/group-commit.js';
import type { TlsMaterial } from '../certs/tls-material.js';
import type { ApiKeys } from '../auth/api-keys.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { Presence } from '../devices/presence.js';
import type { Meter } from '../metering/meter.js';
import type { MessageRates } from '../metering/rates.js';
import type { Admission } from '../health/admission.js';
import type { StatsSources } from '../api/stats-sources.js';
import { LevelPersistence } from './persistence/level-persistence.js';
import type { IngestSink } from './ingest.js';
import { Authenticator } from './authenticate.js';
import { BrokerHooks } from './hooks.js';
import { Intake } from './intake.js';
import { RateLimiter } from './rate-limiter.js';
import { Connections } from './connections.js';
import { MqttListeners } from './listeners.js';
import { packetSizeGuard } from './packet-size.js';
import { coalesceWrites } from './write-coalescing.js';
import { interceptPacketWrites } from './packet-writer.js';
import { interceptPacketParsing } from './packet-parser.js';
import { unsentByteCap } from './slow-consumer.js';
import { DeviceConfigs } from './device-config.js';
import { removeSession } from './session.js';
import { deviceTopic, type DEVICE_SUBSCRIBE_SUFFIXES } from './topics.js';
import { TypedEmitter } from '../typed-emitter.js';

export type DownstreamSuffix = (typeof DEVICE_SUBSCRIBE_SUFFIXES)[number];
/** `delivered`: the device is connected and subscribed; `queued`: kept in its session until it is. */
export type DeliveryStatus = 'delivered' | 'queued';

export type BrokerEvents = {
  /** A SUBSCRIBE was answered; `topics` are the filters granted (refused ones are left out). */
  subscribed: [clientId: string, topics: string[]];
  /** A deleted device's session, queued messages and configuration are gone. */
  forgotten: [deviceId: string];
};

/**
 * Bytes a PUBLISH may carry beyond its payload before the header check refuses it: the topic
 * (`devices/iot_dev_…/telemetry` is 38 bytes), its length prefix and the packet id. The payload itself
 * is held to mqtt.max_message_bytes exactly, in authorizePublish.
 */
const PACKET_OVERHEAD_BYTES = 1024;
/** The largest remaining length MQTT can express (2^28 - 1). */
const MQTT_MAX_REMAINING_LENGTH = 268_435_455;
/** Counters that no synced commit carried yet (deliveries, QoS 0, refusals) are written this often. */
const COUNTER_FLUSH_MS = 1_000;
/** aedes limits, named here so they have one home. */
const AEDES_LIMITS = {
  /** Deliveries in flight in the router at once (mqemitter). */
  concurrency: 100,
  /** Packets a client may send before its CONNECT has been answered; more is an error. */
  queueLimit: 42,
  /** Inbound QoS 2 packets awaiting PUBREL per client (aedes' default is 1000; devices need few). */
  maxInflightInbound: 100,
  /** A client that does not read what it is sent for this long is disconnected. */
  drainTimeout: 30_000,
  /** MQTT 3.1's limit; device ids are 20 characters. */
  maxClientsIdLength: 23,
  /** Device topics have three levels; this only bounds what the ACL would refuse anyway. */
  maxTopicLevels: 16,
} as const;
/**
 * Bytes a connection may leave unread before it is disconnected as too slow (src/broker/slow-consumer.ts):
 * enough for a consumer's pause of seconds at thousands of messages a second, and for several
 * maximum-size messages; small enough that a few frozen subscribers do not crowd a 1 GB board.
 */
const MAX_UNSENT_BYTES = 8 * 1024 * 1024;

export interface BrokerDeps {
  config: GatewayConfig;
  log: Logger;
  store: Store;
  commits: GroupCommit;
  tls: TlsMaterial;
  registry: DeviceRegistry;
  apiKeys: ApiKeys;
  meter: Meter;
  rates: MessageRates;
  admission: Admission;
  presence: Presence;
  /** Where accepted device messages go before they are acknowledged (the uplink adds its outbox). */
  sinks: readonly IngestSink[];
  stats: StatsSources;
}

/**
 * The MQTT broker service: aedes with the LevelDB session persistence, the gateway's hooks (auth,
 * ACL, limits, durable intake), the TLS and plain listeners, presence, and the reactions to registry
 * changes (disable/delete/rotate close the device's connection; delete also drops its session).
 */
export class BrokerService implements Service {
  readonly name = 'broker';
  readonly events = new TypedEmitter<BrokerEvents>();
  readonly configs: DeviceConfigs;
  private aedes: Aedes | undefined;
  private persistence: LevelPersistence | undefined;
  private listeners: MqttListeners | undefined;
  private hooks: BrokerHooks | undefined;
  private intake: Intake | undefined;
  private limiter: RateLimiter | undefined;
  private readonly connections: Connections;
  private readonly unsubscribers: Array<() => void> = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: BrokerDeps) {
    this.connections = new Connections(deps.presence);
    this.configs = new DeviceConfigs(deps.store);
  }

  get port(): number { return this.listeners?.port ?? 0; }
  get plainPort(): number { return this.listeners?.plainPort ?? 0; }

  /** New TLS handshakes get this certificate; connected clients stay connected (SIGHUP reload). */
  setTls(material: TlsMaterial): void { this.listeners?.setTls(material); }

  async start(): Promise<void> {
    try {
      await this.startParts();
    } catch (err) {
      // The gateway stops only services that started: release what did start here (timers, sockets).
      await this.stop();
      throw err;
    }
  }

  private async startParts(): Promise<void> {
    const { config, log, registry, meter } = this.deps;
    const mqtt = config.mqtt;
    this.limiter = mqtt.rate_limit > 0 ? new RateLimiter(mqtt.rate_limit, mqtt.rate_burst, (deviceId) => meter.count(deviceId, 'throttled', 0)) : undefined;
    const { rates, admission, presence, commits, sinks } = this.deps;
    this.intake = new Intake({ quota: config.quota, log, meter, rates, admission, presence, commits, sinks });
    const hooks = new BrokerHooks({
      mqtt, log, registry, meter, rates, intake: this.intake, limiter: this.limiter,
      authenticator: new Authenticator({ registry, apiKeys: this.deps.apiKeys, mqtt, log }),
    });
    this.hooks = hooks;
    // Before aedes reads or writes its first packet: PUBLISH and PUBACK read without mqtt-packet's
    // BufferList; PUBLISH written in one buffer, PUBACKs through their gates.
    interceptPacketParsing();
    interceptPacketWrites();
    this.persistence = new LevelPersistence({ db: this.deps.store.json<unknown>('sessions'), maxQueuedPerClient: mqtt.max_queued_messages_per_client, log });
    const aedes = new Aedes({
      ...AEDES_LIMITS,
      connectTimeout: mqtt.connect_timeout_ms,
      // keepalive_max_seconds is enforced by the hooks with a MQTT 3.1.1 return code (aedes' own answers 6).
      keepaliveLimit: 0,
      persistence: this.persistence,
      ...hooks.options(),
    });
    this.aedes = aedes;
    await aedes.listen();
    this.watch(aedes, hooks);

    const maxRemaining = Math.min(MQTT_MAX_REMAINING_LENGTH, mqtt.max_message_bytes + PACKET_OVERHEAD_BYTES);
    const unsentLimit = Math.max(MAX_UNSENT_BYTES, 2 * maxRemaining);
    // Made once for every connection: each finds its aedes client on the socket (aedes sets `conn.client`).
    const capUnsent = unsentByteCap(unsentLimit, (socket, unsent) => {
      const client = clientOf(socket);
      log.warn({ event: 'mqtt_slow_consumer', client_id: client?.id, address: remoteAddress(socket), unsent_bytes: unsent },
        `disconnected ${client?.id ?? 'a client'}: it left more than ${unsentLimit} bytes unread`);
    });
    const guardSize = packetSizeGuard(maxRemaining, (socket, { announcedBytes, problem }) => {
      const client = clientOf(socket);
      // Synchronously, so that aedes handles nothing of the chunk that carried the refused packet.
      client?.close();
      if (problem !== undefined) {
        log.info({ event: 'mqtt_packet_malformed', client_id: client?.id, address: remoteAddress(socket), problem }, `malformed MQTT packet (${problem}): connection closed`);
        return;
      }
      const principal = client ? hooks.sessionOf(client)?.principal : undefined;
      if (principal?.kind === 'device') meter.count(principal.deviceId, 'rejected', 0);
      log.warn({ event: 'mqtt_packet_too_large', client_id: client?.id, address: remoteAddress(socket), bytes: announcedBytes, limit: mqtt.max_message_bytes },
        `refused a ${announcedBytes}-byte MQTT packet (limit ${mqtt.max_message_bytes} bytes): connection closed before reading it`);
    });
    this.listeners = new MqttListeners({
      mqtt, tls: this.deps.tls, log,
      handle: (socket: Socket) => {
        coalesceWrites(socket);
        aedes.handle(socket);
        capUnsent(socket);
        guardSize(socket);
      },
    });
    await this.listeners.start();

    this.unsubscribers.push(registry.events.on('revoked', (deviceId, reason) => this.revoked(deviceId, reason)));
    this.unsubscribers.push(this.deps.apiKeys.events.on('revoked', (name) => this.keyRevoked(name)));
    this.flushTimer = setInterval(() => this.flushCounters(), COUNTER_FLUSH_MS);
    const persistence = this.persistence;
    this.deps.stats.broker = () => ({ connected_devices: this.connections.deviceCount, connected_apps: this.connections.appCount, queued_dropped: persistence.queueDropped });
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribers.splice(0)) off();
    this.events.removeAll();
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    delete this.deps.stats.broker;
    this.hooks?.beginStop();
    const aedes = this.aedes;
    this.aedes = undefined;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await this.listeners?.stop();
    this.limiter?.stop();
    await this.deps.commits.flush();
    await this.persistence?.destroy();
    this.persistence = undefined;
  }

  /**
   * Publishes a message from the gateway (the API) to a device: QoS 1, optionally retained. Resolves
   * once aedes has handed it to the live connection or stored it in the device's persistent session.
   */
  async send(deviceId: string, suffix: DownstreamSuffix, payload: Buffer, retain = false): Promise<DeliveryStatus> {
    const aedes = this.aedes;
    if (!aedes) throw new Error('the broker is not running');
    const topic = deviceTopic(deviceId, suffix);
    const status: DeliveryStatus = this.connections.isSubscribed(deviceId, topic) ? 'delivered' : 'queued';
    await new Promise<void>((resolve, reject) => {
      aedes.publish({ cmd: 'publish', topic, payload, qos: 1, retain, dup: false }, (err) => (err ? reject(err) : resolve()));
    });
    return status;
  }

  /** Wires aedes' connection events to presence and bookkeeping. */
  private watch(aedes: Aedes, hooks: BrokerHooks): void {
    const { log, registry } = this.deps;
    aedes.on('clientReady', (client) => {
      const session = hooks.sessionOf(client);
      if (!session?.principal) return;
      const principal = session.principal;
      // The device may have been disabled, deleted or rotated while its CONNECT was being answered.
      if (principal.kind === 'device') {
        const device = registry.get(principal.deviceId);
        if (!device || device.status !== 'active' || device.password_hash !== session.passwordHash) { client.close(); return; }
      }
      this.connections.opened(client, principal);
      log.debug({ event: 'mqtt_connected', client_id: client.id, address: session.address, clean: client.clean }, 'MQTT client connected');
    });
    aedes.on('clientDisconnect', (client) => {
      const principal = hooks.sessionOf(client)?.principal;
      if (!principal) return;
      if (principal.kind === 'device') this.limiter?.cancel(principal.deviceId, client);
      this.connections.closed(client, principal);
      log.debug({ event: 'mqtt_disconnected', client_id: client.id }, 'MQTT client disconnected');
    });
    aedes.on('subscribe', (subscriptions, client) => {
      // aedes has replaced each requested QoS with the granted one; 128 is a refusal.
      const granted = subscriptions.filter((s) => (s.qos as number) !== 128).map((s) => s.topic);
      if (granted.length > 0) this.events.emit('subscribed', client.id, granted);
    });
    aedes.on('unsubscribe', (topics, client) => hooks.unsubscribed(client, topics));
    aedes.on('clientError', (client, err) => {
      log.debug({ event: 'mqtt_client_error', client_id: client.id, err: err.message }, 'MQTT connection closed on error');
    });
    aedes.on('connectionError', (_client, err) => {
      log.debug({ event: 'mqtt_connection_error', err: err.message }, 'MQTT connection closed before CONNECT completed');
    });
    // Errors of the persistence surface here (aedes' typings omit the event); unheard, 'error' would throw.
    (aedes as EventEmitter).on('error', (err: Error) => log.error({ event: 'mqtt_broker_error', err }, 'MQTT broker error'));
  }

  /** Disabled, deleted or rotated: the device's connection closes now; a deleted device's session goes. */
  private revoked(deviceId: string, reason: 'disabled' | 'deleted' | 'rotated'): void {
    const client = this.connections.device(deviceId);
    const closed = client ? new Promise<void>((resolve) => (client as Client).close(() => resolve())) : Promise.resolve();
    if (client) this.deps.log.info({ event: 'mqtt_device_disconnected', device_id: deviceId, reason }, `closed the MQTT connection of ${deviceId} (${reason})`);
    if (reason !== 'deleted') return;
    this.limiter?.forget(deviceId);
    this.deps.presence.forget(deviceId);
    void closed.then(() => this.forgetDevice(deviceId)).then(() => this.events.emit('forgotten', deviceId), (err: unknown) => {
      this.deps.log.error({ event: 'mqtt_session_cleanup_failed', device_id: deviceId, err }, 'could not remove the MQTT session of a deleted device');
    });
  }

  /** A revoked API key ends the MQTT connections made with it, at once, like its REST access. */
  private keyRevoked(name: string): void {
    const clients = this.connections.appsWithKey(name);
    for (const client of clients) client.close();
    if (clients.length > 0) this.deps.log.info({ event: 'mqtt_app_disconnected', app: name, connections: clients.length, reason: 'key_revoked' }, `closed ${clients.length} MQTT connection(s) of application ${name}: its API key was revoked`);
  }

  /** A deleted device leaves no session, queued messages, retained configuration or stored config. */
  private async forgetDevice(deviceId: string): Promise<void> {
    const aedes = this.aedes;
    const persistence = this.persistence;
    if (!aedes || !persistence) return;
    await removeSession(persistence, deviceId);
    await new Promise<void>((resolve, reject) => {
      // An empty retained payload clears the retained message (MQTT-3.3.1-10).
      aedes.publish({ cmd: 'publish', topic: deviceTopic(deviceId, 'config'), payload: Buffer.alloc(0), qos: 0, retain: true, dup: false }, (err) => (err ? reject(err) : resolve()));
    });
    await this.configs.remove(deviceId);
  }

  /** Once a second: counters that no synced commit carried yet (deliveries, QoS 0, refusals) go to disk. */
  private flushCounters(): void {
    this.deps.commits.flush().catch((err: unknown) => this.deps.log.error({ event: 'counter_flush_failed', err }, 'writing usage counters failed'));
  }
}

/** The aedes client of a connection: aedes.handle() sets `conn.client` (its typings do not declare it). */
function clientOf(socket: Duplex): Client | undefined {
  return (socket as Duplex & { client?: Client }).client;
}

function remoteAddress(socket: Duplex): string | undefined {
  return (socket as Partial<Socket>).remoteAddress;
}
