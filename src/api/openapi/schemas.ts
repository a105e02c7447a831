/**
 * JSON Schemas (2020-12, as OpenAPI 3.1 uses) of the API's bodies. The OpenAPI test validates real
 * responses against them, so they describe what the server returns, field by field.
 */
const str = { type: 'string' } as const;
const int = { type: 'integer', minimum: 0 } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;
const num = { type: 'number' } as const;
const nullableNum = { type: ['number', 'null'] } as const;
const bool = { type: 'boolean' } as const;

const usageCounters = {
  messages_in: int, messages_out: int, bytes_in: int, bytes_out: int, throttled: int, rejected: int,
} as const;
const usageCountersRequired = Object.keys(usageCounters);

function closed(properties: Record<string, unknown>, required: string[] = Object.keys(properties)): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, properties, required };
}

export const schemas: Record<string, Record<string, unknown>> = {
  Error: closed({
    error: closed({
      code: { ...str, description: 'Stable machine-readable code, e.g. validation_failed, not_found, rate_limited.' },
      message: str,
      details: { type: 'array', items: closed({ field: str, reason: str }) },
    }, ['code', 'message']),
  }),
  MqttCredentials: closed({ username: str, password: str, client_id: str }),
  DeviceCreate: {
    type: 'object', additionalProperties: false, required: ['name', 'type'],
    properties: {
      name: { ...str, minLength: 1, maxLength: 128, description: 'Unique among this gateway\'s devices.' },
      description: { ...str, maxLength: 1024 },
      type: { ...str, minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', examples: ['sensor'] },
      metadata: { type: 'object', description: 'Free-form JSON object, at most 16 KB.' },
    },
  },
  DevicePatch: {
    type: 'object', additionalProperties: false, minProperties: 1,
    properties: {
      name: { ...str, minLength: 1, maxLength: 128 },
      description: { ...str, maxLength: 1024 },
      type: { ...str, minLength: 1, maxLength: 64 },
      metadata: { type: 'object' },
      status: { enum: ['active', 'disabled'], description: 'disabled disconnects the device within 1 s and refuses it until enabled.' },
    },
  },
  DeviceCreated: closed({
    device_id: { ...str, pattern: '^iot_dev_[a-z0-9]{12}$' },
    name: str, type: str, status: { enum: ['active'] },
    mqtt_credentials: { $ref: '#/components/schemas/MqttCredentials' },
    created_at: dateTime,
  }),
  Device: closed({
    device_id: str, name: str, description: str, type: str, status: { enum: ['active', 'disabled'] },
    metadata: { type: 'object' }, created_at: dateTime, updated_at: dateTime,
    online: { type: 'boolean' }, last_seen: nullableDateTime,
  }),
  DeviceDetail: closed({
    device_id: str, name: str, description: str, type: str, status: { enum: ['active', 'disabled'] },
    metadata: { type: 'object' }, created_at: dateTime, updated_at: dateTime,
    online: { type: 'boolean' }, last_seen: nullableDateTime,
    ...usageCounters,
    counters_period: { ...str, pattern: '^\\d{4}-\\d{2}$', description: 'The calendar month the counters cover.' },
  }),
  DeviceList: closed({
    devices: { type: 'array', items: { $ref: '#/components/schemas/Device' } },
    total: int, limit: { type: 'integer', minimum: 1, maximum: 100 }, offset: int,
  }),
  Credentials: closed({
    host: str, hosts: { type: 'array', items: str }, port: { type: 'integer' }, protocol: { enum: ['mqtts'] },
    tls_versions: { type: 'array', items: str }, mqtt_versions: { type: 'array', items: str },
    username: str, client_id: str, password: str,
    ca_certificate: { ...str, description: 'PEM of the CA that signed the gateway certificate.' },
    topics: closed({ publish: { type: 'array', items: str }, subscribe: { type: 'array', items: str } }),
    limits: closed({ max_message_bytes: int, messages_per_second: { type: 'number' } }),
  }),
  Quota: closed({
    max_devices: int, current_devices: int, max_messages_per_month: int, current_messages: int,
    max_bandwidth_gb: { type: 'number' }, current_bandwidth_gb: { type: 'number' },
  }),
  Usage: closed({
    start_date: { ...str, format: 'date' }, end_date: { ...str, format: 'date' }, device_id: { type: ['string', 'null'] },
    days: { type: 'array', items: closed({ date: { ...str, format: 'date' }, ...usageCounters }) },
    totals: closed(usageCounters, usageCountersRequired),
  }),
  Stats: closed({
    gateway: closed({ name: str, version: str, started_at: dateTime, uptime_seconds: int }),
    devices: closed({ total: int, online: int, active: int, disabled: int }),
    messages: {
      type: 'object', required: ['month', 'messages', 'bytes', 'rates', 'since_start'],
      description: 'Quota month usage, rates and totals; the broker may add fields of its own.',
      properties: {
        month: { ...str, pattern: '^\\d{4}-\\d{2}$', description: 'Calendar month of the quota period (gateway.timezone).' },
        messages: { ...int, description: 'Messages in + out this month.' },
        bytes: { ...int, description: 'Bytes in + out this month.' },
        rates: {
          oneOf: [{ type: 'null' }, closed(Object.fromEntries(['in', 'out', 'bytes_in', 'bytes_out'].flatMap((k) => [[`${k}_per_sec_1m`, num], [`${k}_per_sec_15m`, num]])))],
          description: 'Per-second averages over the last 1 and 15 minutes.',
        },
        since_start: { oneOf: [{ type: 'null' }, closed({ messages_in: int, messages_out: int, bytes_in: int, bytes_out: int })] },
      },
    },
    uplink: {
      type: 'object', required: ['state'],
      description: 'Reported by the uplink: state, and backlog {count, bytes, oldest_age_seconds}, dropped.',
      properties: { state: { ...str, description: 'disabled, not_running, connecting, connected, …' } },
    },
    host: { oneOf: [{ type: 'null' }, { $ref: '#/components/schemas/HostSample' }] },
    admission: closed({ accepting: { type: 'boolean', description: 'false while new telemetry is refused (disk below health.disk_min_free_bytes).' }, reason: { type: ['string', 'null'] } }),
    certificate: {
      oneOf: [{ type: 'null' }, closed({ not_after: dateTime, expires_in_days: { type: 'integer' }, expires_in_seconds: { type: 'integer' }, state: { enum: ['ok', 'expiring', 'expired'] } })],
    },
    warnings: {
      type: 'array',
      items: closed({
        code: { enum: ['disk_nearly_full', 'disk_low', 'under_voltage', 'under_voltage_occurred', 'throttled', 'clock_not_synchronized', 'certificate_expiring', 'certificate_expired'] },
        message: str,
      }),
    },
  }),
  HostSample: closed({
    sampled_at: dateTime,
    cpu: closed({ load_1m: num, load_5m: num, load_15m: num, cores: int, usage_percent: nullableNum, iowait_percent: nullableNum }),
    temperature_celsius: { ...nullableNum, description: 'null where the host has no thermal sensor.' },
    memory: closed({ total_bytes: int, available_bytes: int, used_percent: num }),
    disk: { oneOf: [{ type: 'null' }, closed({ path: str, total_bytes: int, free_bytes: int, used_percent: num })], description: 'The filesystem of the data directory.' },
    uptime_seconds: int,
    network: closed({ up: { type: 'array', items: str }, down: { type: 'array', items: str } }),
    throttling: {
      description: 'Raspberry Pi firmware flags (get_throttled); null off a Pi.',
      oneOf: [{ type: 'null' }, closed({
        raw: str, under_voltage: bool, arm_freq_capped: bool, throttled: bool, soft_temp_limit: bool,
        under_voltage_occurred: bool, arm_freq_capped_occurred: bool, throttled_occurred: bool, soft_temp_limit_occurred: bool,
      })],
    },
    clock_synchronized: { type: ['boolean', 'null'], description: 'null when it cannot be told (no systemd-timesyncd).' },
    process: closed({ cpu_percent: nullableNum, rss_bytes: int, heap_used_bytes: int, uptime_seconds: int }),
    sample_cpu_ms: { ...num, description: 'CPU time the sample itself cost.' },
  }),
  KeyCreate: closed({ name: { ...str, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }, scopes: { type: 'array', minItems: 1, items: { enum: ['admin', 'read', 'mqtt'] } } }),
  KeyCreated: closed({ name: str, scopes: { type: 'array', items: str }, key: { ...str, pattern: '^wayscloud_iot_prod_[0-9A-Za-z]{32,}$', description: 'Shown only in this response.' }, created_at: dateTime }),
  KeyList: closed({ keys: { type: 'array', items: closed({ name: str, scopes: { type: 'array', items: str }, created_at: dateTime }) } }),
  CommandCreate: closed({
    command: { ...str, minLength: 1, maxLength: 128, examples: ['reboot'] },
    params: { type: 'object', description: 'Free-form JSON object passed to the device; default {}.' },
  }, ['command']),
  CommandAccepted: closed({
    command_id: { ...str, pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', description: 'Also in the MQTT payload {command_id, command, params, sent_at}.' },
    status: { enum: ['delivered', 'queued'], description: 'delivered: handed to the connected, subscribed device; queued: kept in its persistent session (clean=false) until it reconnects.' },
  }),
  DeviceConfig: { type: 'object', description: 'Any JSON object: the device receives it as the retained payload of devices/{device_id}/config.' },
  ConfigAccepted: closed({ device_id: str, status: { enum: ['delivered', 'queued'] }, updated_at: dateTime }),
  FirmwareNotice: closed({
    version: { ...str, minLength: 1, maxLength: 64 },
    url: { ...str, format: 'uri', maxLength: 2048, description: 'http(s) URL of the image.' },
    sha256: { ...str, pattern: '^[0-9a-fA-F]{64}$' },
  }, ['version', 'url']),
  FirmwareAccepted: closed({ device_id: str, version: str, status: { enum: ['delivered', 'queued'] } }),
  CredentialsRotated: closed({ device_id: str, mqtt_credentials: { $ref: '#/components/schemas/MqttCredentials' } }),
  LiveStats: closed({
    at: dateTime,
    devices: closed({ total: int, online: int }),
    messages: { description: 'Per-second rates over the last tick; null until the broker reports rates.', oneOf: [{ type: 'null' }, closed({ in_per_sec: num, out_per_sec: num, bytes_in_per_sec: num, bytes_out_per_sec: num })] },
    rates: { type: ['object', 'null'], description: 'The 1- and 15-minute averages of GET /stats messages.rates.' },
    uplink: { type: 'object', required: ['state'], description: 'state, and when the uplink reports them: connected, backlog, dropped, absorb_seconds_estimate.', properties: { state: str } },
    warnings: { type: 'array', items: closed({ code: str, message: str }) },
    admission: { oneOf: [{ type: 'null' }, closed({ accepting: bool, reason: { type: ['string', 'null'] } })] },
  }),
  EventHello: closed({
    live: { $ref: '#/components/schemas/LiveStats' },
    history: closed({ at: { type: 'array', items: num, description: 'ms since the epoch' }, in_per_sec: { type: 'array', items: num }, out_per_sec: { type: 'array', items: num } }),
    tick_ms: int,
    heartbeat_ms: int,
  }),
  EventPresence: closed({ device_id: str, online: bool, last_seen: nullableDateTime }),
  EventDeviceDeleted: closed({ device_id: str }),
  EventDeviceRate: closed({ device_id: str, in_per_sec: num, out_per_sec: num, bytes_in_per_sec: num, bytes_out_per_sec: num, today: closed(usageCounters, usageCountersRequired) }),
  Health: closed({ status: str }),
  Ready: closed({ status: { enum: ['ready'] }, parts: { type: 'object', additionalProperties: { type: 'boolean' } } }),
  NotReady: closed({
    status: { enum: ['starting', 'unavailable'], description: 'starting: a part is not up yet; unavailable: a part that was up is down (the store refuses writes while it recovers from a failed write).' },
    parts: { type: 'object', additionalProperties: { type: 'boolean' } },
    error: closed({ code: { enum: ['not_ready'] }, message: str }),
  }),
};
