/**
 * The schema of gateway.yaml: the single source of truth for every setting, its default and its
 * meaning. Environment overrides are derived from it (src/config/env.ts), and the config type below
 * mirrors it. Every field has a default, so an empty file is a valid configuration.
 */

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    data_dir: { type: 'string', minLength: 1, default: './data', description: 'Where LevelDB, certificates and admin.key live. Relative paths are relative to the config file.' },
    gateway: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 64, default: 'ways-edge', description: 'Name of this gateway, shown in logs, /stats and mDNS.' },
        timezone: { type: 'string', default: '', description: 'IANA time zone for daily usage rows and the monthly quota period; empty = the system zone.' },
      },
    },
    log: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'Log level; logs are JSON lines on stdout.' },
      },
    },
    tls: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        cert_file: { type: 'string', default: '', description: 'Server certificate (PEM). Empty = make a local CA and server certificate in data_dir/certs on first start.' },
        key_file: { type: 'string', default: '', description: 'Private key of cert_file (PEM).' },
        ca_file: { type: 'string', default: '', description: 'CA certificate handed to clients by GET /credentials (PEM).' },
        extra_names: { type: 'array', items: { type: 'string' }, default: [], description: 'Further DNS names or IP addresses for the generated server certificate.' },
      },
    },
    api: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        host: { type: 'string', default: '0.0.0.0', description: 'Address the HTTPS API listens on.' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8443, description: 'HTTPS port of the API and dashboard (0 = any free port).' },
        tls: { type: 'boolean', default: true, description: 'Serve the API over HTTPS with the gateway certificate. Switch off only behind a TLS-terminating proxy.' },
        body_limit_bytes: { type: 'integer', minimum: 1024, maximum: 16777216, default: 1048576, description: 'Largest request body; larger gets 413.' },
        rate_limit_per_minute: { type: 'integer', minimum: 0, default: 1000, description: 'Sustained requests per minute per API key (0 = no limit).' },
        rate_limit_burst: { type: 'integer', minimum: 0, default: 200, description: 'Extra requests a key may send in a burst above the per-minute rate.' },
        public_host: { type: 'string', default: '', description: 'Host name clients should use (GET /credentials); empty = <hostname>.local.' },
      },
    },
    mqtt: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        host: { type: 'string', default: '0.0.0.0', description: 'Address of the TLS MQTT listener.' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8883, description: 'Port of the TLS MQTT listener (0 = any free port).' },
        plain_enabled: { type: 'boolean', default: false, description: 'Also listen without TLS (for local tools). Off by default.' },
        plain_host: { type: 'string', default: '127.0.0.1', description: 'Address of the plain listener; localhost unless you mean otherwise.' },
        plain_port: { type: 'integer', minimum: 0, maximum: 65535, default: 1883, description: 'Port of the plain listener.' },
        max_message_bytes: { type: 'integer', minimum: 1024, maximum: 268435455, default: 1048576, description: 'Largest MQTT packet accepted (the seed: 1 MB).' },
        rate_limit: { type: 'number', minimum: 0, default: 100, description: 'Messages per second per device; a faster device is slowed down. 0 = no limit.' },
        rate_burst: { type: 'integer', minimum: 1, default: 100, description: 'Messages a device may send at once above its rate.' },
        max_subscriptions_per_client: { type: 'integer', minimum: 1, default: 100, description: 'Subscriptions one client may hold.' },
        max_queued_messages_per_client: { type: 'integer', minimum: 0, default: 1000, description: 'QoS 1/2 messages kept for one offline persistent session (clean=false); past it the oldest are dropped and counted. 0 = no cap.' },
        connect_timeout_ms: { type: 'integer', minimum: 100, default: 10000, description: 'A socket that has not sent CONNECT by then is closed.' },
        keepalive_max_seconds: { type: 'integer', minimum: 0, maximum: 65535, default: 1200, description: 'Largest keepalive a client may ask for (0 = no cap).' },
        auth_concurrency: { type: 'integer', minimum: 1, default: 2, description: 'Password hash checks running at once, so a reconnect storm cannot starve the event loop.' },
      },
    },
    discovery: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Announce the MQTT (_mqtt._tcp) and HTTPS (_https._tcp) services on the LAN with mDNS under gateway.name.' },
      },
    },
    quota: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        max_devices: { type: 'integer', minimum: 0, default: 1000, description: 'Devices that may be registered.' },
        max_messages_per_month: { type: 'integer', minimum: 0, default: 10000000, description: 'Messages (in + out) per calendar month.' },
        max_bandwidth_gb: { type: 'number', minimum: 0, default: 100, description: 'Bytes (in + out) per calendar month, in GB (10^9 bytes).' },
      },
    },
    cloud: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        url: { type: 'string', default: 'mqtts://mqtt.wayscloud.services:8883', description: 'Cloud MQTT broker; empty = no uplink.' },
        username: { type: 'string', default: '', description: "The gateway's own device id at the cloud (also its client id)." },
        password: { type: 'string', default: '', description: "The gateway's MQTT password at the cloud." },
        ca: { type: 'string', default: '', description: 'PEM file of the CA that signed the cloud broker; empty = the system CAs.' },
        mode: { enum: ['batch', 'mirror'], default: 'batch', description: 'batch: many messages per publish on the gateway telemetry topic; mirror: each message on its own topic.' },
        gzip: { type: 'boolean', default: true, description: 'Compress batches with gzip.' },
        // 2,000: at the cloud's 100 publishes/s the uplink then carries up to 200,000 msg/s, more than the
        // broker accepts; with 500 (50,000 msg/s) a full-speed load outran it and the backlog was read
        // back from LevelDB (bench QoS 0: 20-23 -> 11.5-13 µs per message). 2,000 typical messages are
        // ~660 KB of JSON, under the 1 MB publish.
        batch_max_messages: { type: 'integer', minimum: 1, default: 2000, description: 'Messages per batch at most.' },
        batch_max_bytes: { type: 'integer', minimum: 1024, maximum: 1048576, default: 1000000, description: 'Bytes per batch publish at most (the cloud limit is 1 MB).' },
        batch_max_age_ms: { type: 'integer', minimum: 0, default: 1000, description: 'A partial batch is sent after this long.' },
        inflight_batches: { type: 'integer', minimum: 1, maximum: 100, default: 8, description: 'Batches awaiting PUBACK at once.' },
        publish_rate_limit: { type: 'number', minimum: 0, default: 100, description: 'Publishes per second to the cloud (its per-device limit).' },
        outbox_max_bytes: { type: 'integer', minimum: 0, default: 536870912, description: 'Outbox cap in bytes; past it the oldest entries are dropped and counted.' },
        outbox_max_age_hours: { type: 'number', minimum: 0, default: 168, description: 'Outbox entries older than this are dropped and counted.' },
        reconnect_min_ms: { type: 'integer', minimum: 10, default: 1000, description: 'First reconnect delay.' },
        reconnect_max_ms: { type: 'integer', minimum: 10, default: 60000, description: 'Largest reconnect delay.' },
        status_interval_seconds: { type: 'integer', minimum: 0, default: 60, description: 'How often the gateway publishes its status and health upstream (0 = only on connect).' },
      },
    },
    health: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        disk_min_free_bytes: { type: 'integer', minimum: 0, default: 104857600, description: 'Below this free space on the data filesystem, new telemetry is refused until space returns.' },
        disk_warn_percent: { type: 'number', minimum: 0, maximum: 100, default: 90, description: 'Disk use that raises a warning in /stats.' },
        cert_warn_days: { type: 'integer', minimum: 0, default: 30, description: 'Warn this many days before the server certificate expires.' },
        metrics_token: { type: 'string', default: '', description: 'Bearer token that may read /metrics besides API keys; empty = API keys only.' },
      },
    },
    jobs: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        health_sample: { type: 'string', default: '*/30 * * * * *', description: 'Cron schedule of host health sampling.' },
        usage_rollup: { type: 'string', default: '5 0 * * *', description: 'Daily usage roll-up.' },
        quota_reset: { type: 'string', default: '0 0 1 * *', description: 'Monthly quota period reset (in gateway.timezone).' },
        retention: { type: 'string', default: '30 3 * * *', description: 'Retention of old usage rows and outbox entries.' },
        usage_retention_days: { type: 'integer', minimum: 1, default: 400, description: 'Usage rows kept this many days.' },
        cert_check: { type: 'string', default: '0 6 * * *', description: 'Certificate expiry check.' },
        compaction: { type: 'string', default: '0 4 * * 0', description: 'LevelDB compaction when worthwhile.' },
      },
    },
  },
} as const;

export interface GatewayConfig {
  /** Absolute path of the config file it was loaded from, or '' for the embedded defaults. */
  readonly config_file: string;
  readonly data_dir: string;
  readonly gateway: { readonly name: string; readonly timezone: string };
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  readonly tls: { readonly cert_file: string; readonly key_file: string; readonly ca_file: string; readonly extra_names: readonly string[] };
  readonly api: {
    readonly host: string; readonly port: number; readonly tls: boolean; readonly body_limit_bytes: number;
    readonly rate_limit_per_minute: number; readonly rate_limit_burst: number; readonly public_host: string;
  };
  readonly mqtt: {
    readonly host: string; readonly port: number; readonly plain_enabled: boolean; readonly plain_host: string; readonly plain_port: number;
    readonly max_message_bytes: number; readonly rate_limit: number; readonly rate_burst: number;
    readonly max_subscriptions_per_client: number; readonly max_queued_messages_per_client: number;
    readonly connect_timeout_ms: number; readonly keepalive_max_seconds: number;
    readonly auth_concurrency: number;
  };
  readonly discovery: { readonly enabled: boolean };
  readonly quota: { readonly max_devices: number; readonly max_messages_per_month: number; readonly max_bandwidth_gb: number };
  readonly cloud: {
    readonly url: string; readonly username: string; readonly password: string; readonly ca: string;
    readonly mode: 'batch' | 'mirror'; readonly gzip: boolean; readonly batch_max_messages: number; readonly batch_max_bytes: number;
    readonly batch_max_age_ms: number; readonly inflight_batches: number; readonly publish_rate_limit: number;
    readonly outbox_max_bytes: number; readonly outbox_max_age_hours: number;
    readonly reconnect_min_ms: number; readonly reconnect_max_ms: number; readonly status_interval_seconds: number;
  };
  readonly health: { readonly disk_min_free_bytes: number; readonly disk_warn_percent: number; readonly cert_warn_days: number; readonly metrics_token: string };
  readonly jobs: {
    readonly health_sample: string; readonly usage_rollup: string; readonly quota_reset: string; readonly retention: string;
    readonly usage_retention_days: number; readonly cert_check: string; readonly compaction: string;
  };
}
