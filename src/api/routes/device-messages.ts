import { randomUUID } from 'node:crypto';
import { Router } from '@koa/router';
import type { ApiDeps, ApiState } from '../context.js';
import { readJson } from '../body.js';
import { GatewayError, invalidField } from '../../errors.js';
import type { DeliveryStatus, DownstreamSuffix } from '../../broker/broker.js';
import type { DeviceConfigs } from '../../broker/device-config.js';

/** What these routes need of the broker (src/broker/broker.ts). */
export interface DeviceMessaging {
  send(deviceId: string, suffix: DownstreamSuffix, payload: Buffer, retain?: boolean): Promise<DeliveryStatus>;
  readonly configs: DeviceConfigs;
}

const COMMAND_MAX_CHARS = 128;
const VERSION_MAX_CHARS = 64;
const URL_MAX_CHARS = 2048;
const SHA256_PATTERN = /^[0-9a-fA-F]{64}$/;

/**
 * Cloud→device messages from the API: commands, configuration and firmware notices, published QoS 1
 * on the device's topics (a device offline with a persistent session gets them when it reconnects,
 * also after a restart), and credential rotation. Non-GET routes need the admin scope (app.ts).
 */
export function deviceMessagesRouter(deps: ApiDeps, broker: DeviceMessaging): Router<ApiState> {
  const router = new Router<ApiState>();
  const limit = deps.config.api.body_limit_bytes;
  const maxMessage = deps.config.mqtt.max_message_bytes;

  /** The MQTT payload, held to the broker's message limit like any device message. */
  function payloadOf(message: unknown): Buffer {
    const payload = Buffer.from(JSON.stringify(message));
    if (payload.length > maxMessage) throw new GatewayError('payload_too_large', `the MQTT message would be ${payload.length} bytes; the limit is ${maxMessage} (mqtt.max_message_bytes)`);
    return payload;
  }

  router.post('/devices/:id/commands', async (ctx) => {
    const id = ctx.params.id as string;
    deps.registry.require(id);
    const body = objectBody(await readJson(ctx, limit), ['command', 'params']);
    const command = body.command;
    if (typeof command !== 'string' || command.trim() === '') throw invalidField('command', 'is required: a non-empty string');
    if (command.length > COMMAND_MAX_CHARS) throw invalidField('command', `must be at most ${COMMAND_MAX_CHARS} characters`);
    const params = body.params ?? {};
    if (!isObject(params)) throw invalidField('params', 'must be a JSON object');
    const commandId = randomUUID();
    const payload = payloadOf({ command_id: commandId, command, params, sent_at: new Date().toISOString() });
    const status = await broker.send(id, 'commands', payload);
    deps.log.info({ event: 'command_sent', device_id: id, command_id: commandId, command, status, by: ctx.state.principal?.name }, `command ${command} to ${id}: ${status}`);
    ctx.status = 202;
    ctx.body = { command_id: commandId, status };
  });

  router.put('/devices/:id/config', async (ctx) => {
    const id = ctx.params.id as string;
    deps.registry.require(id);
    const config = await readJson(ctx, limit);
    if (!isObject(config)) throw invalidField('body', 'must be a JSON object (the configuration document)');
    const payload = payloadOf(config);
    const stored = await broker.configs.put(id, config);
    const status = await broker.send(id, 'config', payload, true);
    deps.log.info({ event: 'config_sent', device_id: id, status, bytes: payload.length, by: ctx.state.principal?.name }, `configuration for ${id}: ${status}`);
    ctx.body = { device_id: id, status, updated_at: stored.updated_at };
  });

  router.get('/devices/:id/config', async (ctx) => {
    const id = ctx.params.id as string;
    deps.registry.require(id);
    const stored = await broker.configs.get(id);
    if (!stored) throw new GatewayError('not_found', `no configuration has been set for device ${id}`);
    ctx.set('Last-Modified', new Date(stored.updated_at).toUTCString());
    ctx.body = stored.config;
  });

  router.post('/devices/:id/firmware', async (ctx) => {
    const id = ctx.params.id as string;
    deps.registry.require(id);
    const body = objectBody(await readJson(ctx, limit), ['version', 'url', 'sha256']);
    const { version, url, sha256 } = body;
    if (typeof version !== 'string' || version.trim() === '') throw invalidField('version', 'is required: a non-empty string');
    if (version.length > VERSION_MAX_CHARS) throw invalidField('version', `must be at most ${VERSION_MAX_CHARS} characters`);
    if (typeof url !== 'string' || url === '') throw invalidField('url', 'is required: an http(s) URL');
    if (url.length > URL_MAX_CHARS || !isHttpUrl(url)) throw invalidField('url', `must be an http or https URL of at most ${URL_MAX_CHARS} characters`);
    if (sha256 !== undefined && (typeof sha256 !== 'string' || !SHA256_PATTERN.test(sha256))) throw invalidField('sha256', 'must be 64 hexadecimal characters');
    const payload = payloadOf({ version, url, ...(sha256 === undefined ? {} : { sha256: (sha256 as string).toLowerCase() }), sent_at: new Date().toISOString() });
    const status = await broker.send(id, 'firmware', payload);
    deps.log.info({ event: 'firmware_sent', device_id: id, version, status, by: ctx.state.principal?.name }, `firmware ${version} notice to ${id}: ${status}`);
    ctx.status = 202;
    ctx.body = { device_id: id, version, status };
  });

  router.post('/devices/:id/credentials/rotate', async (ctx) => {
    const id = ctx.params.id as string;
    deps.registry.require(id);
    // The registry emits 'revoked'; the broker closes the device's connection at once.
    const credentials = await deps.registry.rotate(id);
    deps.log.info({ event: 'credentials_rotated', device_id: id, by: ctx.state.principal?.name }, `MQTT password of ${id} rotated`);
    ctx.body = { device_id: id, mqtt_credentials: credentials };
  });

  return router;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON object with only the named fields (a misspelt field is an error, not ignored). */
function objectBody(body: unknown, fields: readonly string[]): Record<string, unknown> {
  if (!isObject(body)) throw invalidField('body', 'must be a JSON object');
  for (const key of Object.keys(body)) {
    if (!fields.includes(key)) throw invalidField(key, `is not a field of this request (allowed: ${fields.join(', ')})`);
  }
  return body;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
