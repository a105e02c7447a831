/**
 * JSON Schemas (2020-12, as OpenAPI 3.1 uses) of the API's bodies. The OpenAPI test validates real
 * responses against them, so they describe what the server returns, field by field.
 */
const str = { type: 'string' } as const;
const int = { type: 'integer', minimum: 0 } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;

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
  Stats: {
    type: 'object', required: ['gateway', 'devices', 'messages', 'uplink', 'host', 'warnings'],
    properties: {
      gateway: closed({ name: str, started_at: dateTime, uptime_seconds: int }),
      devices: closed({ total: int, online: int, active: int, disabled: int }),
      messages: { type: 'object', required: ['month', 'messages', 'bytes'], properties: { month: str, messages: int, bytes: int } },
      uplink: { type: 'object', required: ['state'], properties: { state: str } },
      host: { type: ['object', 'null'] },
      warnings: { type: 'array', items: str },
    },
  },
  KeyCreate: closed({ name: { ...str, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }, scopes: { type: 'array', minItems: 1, items: { enum: ['admin', 'read', 'mqtt'] } } }),
  KeyCreated: closed({ name: str, scopes: { type: 'array', items: str }, key: { ...str, pattern: '^wayscloud_iot_prod_[0-9A-Za-z]{32,}$', description: 'Shown only in this response.' }, created_at: dateTime }),
  KeyList: closed({ keys: { type: 'array', items: closed({ name: str, scopes: { type: 'array', items: str }, created_at: dateTime }) } }),
  Health: closed({ status: str }),
  Ready: closed({ status: { enum: ['ready', 'starting'] }, parts: { type: 'object', additionalProperties: { type: 'boolean' } } }),
};
