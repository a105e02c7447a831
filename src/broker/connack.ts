import type { AuthenticateError } from 'aedes';
import type { ErrorCode, GatewayError } from '../errors.js';

/** The CONNACK return codes of MQTT 3.1.1 (§3.2.2.3) a refusal can carry; 1 is aedes' own business. */
export const CONNACK = {
  identifierRejected: 2,
  serverUnavailable: 3,
  badUsernameOrPassword: 4,
  notAuthorized: 5,
} as const;
export type ConnackCode = (typeof CONNACK)[keyof typeof CONNACK];

/**
 * The one place where gateway error codes become CONNACK return codes (src/api/error-status.ts is
 * its HTTP twin). A `Record` over every code, so a new code cannot be forgotten here.
 */
export const CONNACK_CODE: Record<ErrorCode, ConnackCode> = {
  unauthorized: CONNACK.badUsernameOrPassword,
  forbidden: CONNACK.notAuthorized,
  quota_exceeded: CONNACK.notAuthorized,
  not_found: CONNACK.notAuthorized,
  conflict: CONNACK.notAuthorized,
  // A CONNECT the gateway will not take as sent (e.g. a keepalive over the cap), like mosquitto.
  bad_request: CONNACK.identifierRejected,
  validation_failed: CONNACK.identifierRejected,
  invalid_json: CONNACK.identifierRejected,
  payload_too_large: CONNACK.identifierRejected,
  unsupported_media_type: CONNACK.identifierRejected,
  // Try again later: the gateway is busy, starting, stopping or unwell.
  rate_limited: CONNACK.serverUnavailable,
  not_ready: CONNACK.serverUnavailable,
  busy: CONNACK.serverUnavailable,
  disk_full: CONNACK.serverUnavailable,
  store_locked: CONNACK.serverUnavailable,
  store_corrupt: CONNACK.serverUnavailable,
  config_invalid: CONNACK.serverUnavailable,
  internal: CONNACK.serverUnavailable,
};

/** The error aedes turns into a refusing CONNACK (it reads `returnCode`). */
export function connackError(err: GatewayError): AuthenticateError {
  return Object.assign(new Error(err.message), { returnCode: CONNACK_CODE[err.code] }) as AuthenticateError;
}
