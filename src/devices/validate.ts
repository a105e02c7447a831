import { invalidField } from '../errors.js';
import { DEVICE_STATUSES, type DeviceStatus } from './device.js';

/** Fields a client may set; everything else in a body (device_id, credentials, counters) is refused. */
export interface DeviceInput {
  name?: string;
  description?: string;
  type?: string;
  metadata?: Record<string, unknown>;
  status?: DeviceStatus;
}

const LIMITS = { name: 128, description: 1024, type: 64, metadataBytes: 16384 } as const;
const TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const CREATE_FIELDS = ['name', 'description', 'type', 'metadata'];
const PATCH_FIELDS = [...CREATE_FIELDS, 'status'];

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidField('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}

function rejectUnknown(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw invalidField(key, `is not a field you can set (allowed: ${allowed.join(', ')})`);
  }
}

function text(body: Record<string, unknown>, field: 'name' | 'description' | 'type', required: boolean): string | undefined {
  const value = body[field];
  if (value === undefined) {
    if (required) throw invalidField(field, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') throw invalidField(field, 'must be a string');
  const trimmed = value.trim();
  if (field !== 'description' && trimmed.length === 0) throw invalidField(field, 'must not be empty');
  if (trimmed.length > LIMITS[field]) throw invalidField(field, `must be at most ${LIMITS[field]} characters`);
  if (field === 'type' && !TYPE_PATTERN.test(trimmed)) throw invalidField(field, 'must be letters, digits, ".", "_" or "-" (e.g. "sensor")');
  return trimmed;
}

function metadata(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const value = body.metadata;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidField('metadata', 'must be a JSON object');
  if (Buffer.byteLength(JSON.stringify(value)) > LIMITS.metadataBytes) throw invalidField('metadata', `must be at most ${LIMITS.metadataBytes} bytes as JSON`);
  return value as Record<string, unknown>;
}

export function parseCreate(body: unknown): Required<Pick<DeviceInput, 'name' | 'type'>> & DeviceInput {
  const obj = asObject(body);
  rejectUnknown(obj, CREATE_FIELDS);
  const name = text(obj, 'name', true) as string;
  const type = text(obj, 'type', true) as string;
  const out: Required<Pick<DeviceInput, 'name' | 'type'>> & DeviceInput = { name, type };
  const description = text(obj, 'description', false);
  if (description !== undefined) out.description = description;
  const meta = metadata(obj);
  if (meta !== undefined) out.metadata = meta;
  return out;
}

export function parsePatch(body: unknown): DeviceInput {
  const obj = asObject(body);
  rejectUnknown(obj, PATCH_FIELDS);
  if (Object.keys(obj).length === 0) throw invalidField('body', `must set at least one of ${PATCH_FIELDS.join(', ')}`);
  const out: DeviceInput = {};
  const name = text(obj, 'name', false); if (name !== undefined) out.name = name;
  const type = text(obj, 'type', false); if (type !== undefined) out.type = type;
  const description = text(obj, 'description', false); if (description !== undefined) out.description = description;
  const meta = metadata(obj); if (meta !== undefined) out.metadata = meta;
  if (obj.status !== undefined) {
    if (!(DEVICE_STATUSES as readonly unknown[]).includes(obj.status)) throw invalidField('status', `must be one of ${DEVICE_STATUSES.join(', ')}`);
    out.status = obj.status as DeviceStatus;
  }
  return out;
}
