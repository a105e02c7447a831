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
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key: wayscloud_iot_prod_ followed by 40 base62 characters.' } },
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
      '/openapi.json': { get: op('This document', { tags: ['meta'], responses: { 200: { description: 'OpenAPI 3.1 document', ...json({ type: 'object', required: ['openapi', 'info', 'paths', 'components'] }) }, ...commonErrors } }) },
      '/healthz': { servers: [{ url: '/' }], get: op('Liveness', { tags: ['meta'], security: [], responses: { 200: ok('Alive', 'Health') } }) },
      '/readyz': { servers: [{ url: '/' }], get: op('Readiness: store open, broker and API listening', { tags: ['meta'], security: [], responses: { 200: ok('Ready', 'Ready'), 503: ok('Starting', 'Ready') } }) },
    },
  };
}
