/**
 * One error type for the whole gateway. `code` is a stable string that clients and tests may rely on;
 * src/api/error-status.ts and src/broker/connack.ts are the only places that turn codes into
 * HTTP statuses and MQTT return codes.
 */
export type ErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'invalid_json'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'rate_limited'
  | 'quota_exceeded'
  | 'unsupported_media_type'
  | 'not_ready'
  | 'busy'
  | 'store_locked'
  | 'store_corrupt'
  | 'config_invalid'
  | 'disk_full'
  | 'internal';

export interface FieldProblem {
  /** Path of the offending field, e.g. `name` or `metadata.location`. */
  field: string;
  reason: string;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly details: FieldProblem[] | undefined;
  /** Seconds a client should wait before retrying (rate limits). */
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, opts: { details?: FieldProblem[]; retryAfter?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.details = opts.details;
    this.retryAfter = opts.retryAfter;
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}

/** Shorthand for the common "field X is wrong because Y" 400. */
export function invalidField(field: string, reason: string): GatewayError {
  return new GatewayError('validation_failed', `${field}: ${reason}`, { details: [{ field, reason }] });
}
