import type { ErrorCode } from '../errors.js';

/** The one place where error codes become HTTP statuses. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  quota_exceeded: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  not_ready: 503,
  /** A bounded resource is in use (e.g. every event-stream slot): retry later, see Retry-After. */
  busy: 503,
  disk_full: 507,
  store_locked: 500,
  store_corrupt: 500,
  config_invalid: 500,
  internal: 500,
};
