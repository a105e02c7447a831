import { schemas } from './schemas.js';

/**
 * The OpenAPI 3.1 document served at /v1/iot/openapi.json. test/api/openapi.test.ts checks that every
 * route the server has is documented here and that responses match the documented schemas — add a
 * route here in the same change that adds it to a router.
 */
type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json): Json => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schemaName?: string): Json => (schemaName ? { description, ...json(ref(schemaName)) } : { description });
const err = (description: string): Json => ({ description, ...json(ref('Error')) });

const commonErrors = {
  401: err('Missing, invalid or revoked API key.'),
  403: err('The key lacks the scope this route needs.'),
  429: { ...err('Rate limit exceeded (1000 requests/minute per key plus a burst of 200).'), headers: { 'Retry-After': { schema: { type: 'integer' } } } },
};
const bodyErrors = { 400: err('Invalid body; details name each field and why.'), 413: err('Body larger than 1 MB.'), 415: err('Body is not application/json.') };

const deviceId = { name: 'device_id', in: 'path', required: true, schema: { type: 'string' } };
const q = (name: string, schema: Json, description: string): Json => ({ name, in: 'query', required: false, schema, description });

function op(summary: string, parts: { tags: string[]; params?: Json[]; body?: string; responses: Json; security?: Json[] }): Json {
  return {
    summary,
    tags: parts.tags,
    ...(parts.params ? { parameters: parts.params } : {}),
    ...(parts.body ? { requestBody: { required: true, ...json(ref(parts.body)) } } : {}),
    responses: parts.responses,
    ...(parts.security ? { security: parts.security } : {}),
  };
}

export function openApiDocument(version: string): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'ways-edge — WAYSCloud IoT Platform API on the LAN',
      version,
      description: 'The WAYSCloud IoT Platform API served by a building gateway. Authenticate with `Authorization: Bearer wayscloud_iot_prod_…`.',
    },
    servers: [{ url: '/v1/iot' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key: wayscloud_iot_prod_ followed by 40 base62 characters.' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'health.metrics_token from gateway.yaml: reads /metrics only, not rate-limited.' },
      },
      schemas,
    },
    paths: {
      '/devices': {
        get: op('List devices', {
          tags: ['devices'],
          params: [q('limit', { type: 'integer', minimum: 1, maximum: 100, default: 50 }, 'Page size'), q('offset', { type: 'integer', minimum: 0, default: 0 }, 'Items to skip'),
            q('type', { type: 'string' }, 'Only devices of this type'), q('status', { enum: ['active', 'disabled'] }, 'Only devices with this status')],
          responses: { 200: ok('A page of devices', 'DeviceList'), 400: err('Bad query parameter'), ...commonErrors },
        }),
        post: op('Register a device', {
          tags: ['devices'], body: 'DeviceCreate',
          responses: { 201: ok('Registered; the password is shown only here', 'DeviceCreated'), ...bodyErrors, ...commonErrors, 409: err('A device with this name exists') },
        }),
      },
      '/devices/{device_id}': {
        get: op('Device details with live state and this month\'s counters', { tags: ['devices'], params: [deviceId], responses: { 200: ok('The device', 'DeviceDetail'), 404: err('No such device'), ...commonErrors } }),
        patch: op('Update a device', { tags: ['devices'], params: [deviceId], body: 'DevicePatch', responses: { 200: ok('The updated device', 'DeviceDetail'), 404: err('No such device'), 409: err('Name taken'), ...bodyErrors, ...commonErrors } }),
        delete: op('Remove a device (disconnects it; usage history stays)', { tags: ['devices'], params: [deviceId], responses: { 204: ok('Removed'), 404: err('No such device'), ...commonErrors } }),
      },
      '/devices/{device_id}/commands': {
        post: op('Send a command to a device: QoS 1 on devices/{device_id}/commands, kept in the device\'s persistent session while it is offline (admin)', {
          tags: ['device messages'], params: [deviceId], body: 'CommandCreate',
          responses: { 202: ok('Published; `delivered` if the device is connected and subscribed, else `queued`', 'CommandAccepted'), 404: err('No such device'), ...bodyErrors, ...commonErrors },
        }),
      },
      '/devices/{device_id}/config': {
        put: op('Set a device\'s configuration: retained QoS 1 on devices/{device_id}/config, and kept for GET (admin)', {
          tags: ['device messages'], params: [deviceId], body: 'DeviceConfig',
          responses: { 200: ok('Stored and published', 'ConfigAccepted'), 404: err('No such device'), ...bodyErrors, ...commonErrors },
        }),
        get: op('The configuration last set with PUT, exactly as sent', {
          tags: ['device messages'], params: [deviceId],
          responses: { 200: ok('The configuration document', 'DeviceConfig'), 404: err('No such device, or no configuration set'), ...commonErrors },
        }),
      },
      '/devices/{device_id}/firmware': {
        post: op('Announce a firmware update: QoS 1 on devices/{device_id}/firmware (admin)', {
          tags: ['device messages'], params: [deviceId], body: 'FirmwareNotice',
          responses: { 202: ok('Published', 'FirmwareAccepted'), 404: err('No such device'), ...bodyErrors, ...commonErrors },
        }),
      },
      '/devices/{device_id}/credentials/rotate': {
        post: op('New MQTT password (shown once); the old one stops working at once and the device is disconnected (admin)', {
          tags: ['devices'], params: [deviceId],
          responses: { 200: ok('The new credentials', 'CredentialsRotated'), 404: err('No such device'), ...commonErrors },
        }),
      },
      '/credentials': { get: op('MQTT connection information and the CA certificate', { tags: ['credentials'], responses: { 200: ok('Connection info', 'Credentials'), ...commonErrors } }) },
      '/quota': { get: op('Quota limits and current use', { tags: ['usage'], responses: { 200: ok('Quota', 'Quota'), ...commonErrors } }) },
      '/usage': {
        get: op('Usage per day', {
          tags: ['usage'],
          params: [q('start_date', { type: 'string', format: 'date' }, 'First day (default: 6 days before end_date)'), q('end_date', { type: 'string', format: 'date' }, 'Last day (default: today)'), q('device_id', { type: 'string' }, 'Only this device')],
          responses: { 200: ok('Rows and totals', 'Usage'), 400: err('Bad date'), 404: err('No such device'), ...commonErrors },
        }),
      },
      '/stats': { get: op('Platform statistics', { tags: ['stats'], responses: { 200: ok('Statistics', 'Stats'), ...commonErrors } }) },
      '/keys': {
        get: op('List API keys (admin)', { tags: ['keys'], responses: { 200: ok('Keys without secrets', 'KeyList'), ...commonErrors } }),
        post: op('Create an API key (admin); the key is shown once', { tags: ['keys'], body: 'KeyCreate', responses: { 201: ok('Created', 'KeyCreated'), 409: err('Name taken'), ...bodyErrors, ...commonErrors } }),
      },
      '/keys/{name}': {
        delete: op('Revoke an API key (admin)', { tags: ['keys'], params: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }], responses: { 204: ok('Revoked'), 404: err('No such key'), 409: err('The last admin key'), ...commonErrors } }),
      },
      '/events': {
        get: {
          ...op('Live events for the dashboard (server-sent events); read it with a Bearer header, e.g. fetch() and a stream reader', {
            tags: ['events'],
            params: [q('device_id', { type: 'string' }, 'Also send `device.rate` every tick for this device (the open device page)')],
            responses: {
              200: {
                description: 'A text/event-stream that stays open. First `retry: 3000`, then `hello` (the current picture and the last 15 minutes of message rates), '
                  + 'then `stats` every 2 s (computed once per tick for all streams), `device.online` / `device.offline` (connections), '
                  + '`device.created` / `device.updated` / `device.deleted` (registry), `device.rate` every 2 s when device_id is given, '
                  + 'and a `: heartbeat` comment every 15 s. Each event\'s data is one line of JSON; x-events names its schema.',
                content: { 'text/event-stream': { schema: { type: 'string' } } },
              },
              400: err('Bad query parameter'),
              404: err('No such device (device_id)'),
              503: { ...err('Too many event streams are open (20); retry later'), headers: { 'Retry-After': { schema: { type: 'integer' } } } },
              ...commonErrors,
            },
          }),
          'x-events': {
            hello: ref('EventHello'), stats: ref('LiveStats'), 'device.online': ref('EventPresence'), 'device.offline': ref('EventPresence'),
            'device.created': ref('Device'), 'device.updated': ref('Device'), 'device.deleted': ref('EventDeviceDeleted'), 'device.rate': ref('EventDeviceRate'),
          },
        },
      },
      '/openapi.json': { get: op('This document', { tags: ['meta'], responses: { 200: { description: 'OpenAPI 3.1 document', ...json({ type: 'object', required: ['openapi', 'info', 'paths', 'components'] }) }, ...commonErrors } }) },
      '/metrics': {
        servers: [{ url: '/' }],
        get: op('Prometheus metrics (text format 0.0.4): gateway counters and gauges (ways_edge_*) and process metrics', {
          tags: ['meta'],
          security: [{ bearer: [] }, { metricsToken: [] }],
          responses: {
            200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } },
            401: err('Neither an API key with the read scope nor health.metrics_token.'),
            403: err('The API key lacks the read scope.'),
            429: commonErrors[429],
          },
        }),
      },
      '/': {
        servers: [{ url: '/' }],
        get: op('The LAN dashboard: one HTML page (sign in there with an API key); revalidated on every load (no-cache, ETag)', {
          tags: ['dashboard'], security: [],
          responses: { 200: { description: 'The page, under a strict Content-Security-Policy', content: { 'text/html': { schema: { type: 'string' } } } }, 304: { description: 'Not modified' }, 404: err('The dashboard is not built (npm run build)') },
        }),
      },
      '/assets/{file}': {
        servers: [{ url: '/' }],
        get: op('The dashboard\'s script, styles and icon; names carry a content hash, so they are cached for a year (immutable)', {
          tags: ['dashboard'], security: [], params: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            200: { description: 'The file (gzip when accepted)', content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } }, 'image/svg+xml': { schema: { type: 'string' } } } },
            304: { description: 'Not modified' },
            404: err('Not a file of the built dashboard'),
          },
        }),
      },
      '/healthz': { servers: [{ url: '/' }], get: op('Liveness', { tags: ['meta'], security: [], responses: { 200: ok('Alive', 'Health') } }) },
      '/readyz': { servers: [{ url: '/' }], get: op('Readiness: store open and writable, broker and API listening', { tags: ['meta'], security: [], responses: { 200: ok('Ready', 'Ready'), 503: ok('Not ready: starting, or the store is recovering from a failed write', 'NotReady') } }) },
    },
  };
}
