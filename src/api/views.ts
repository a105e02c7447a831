import type { DeviceRecord, MqttCredentials } from '../devices/device.js';
import type { Presence } from '../devices/presence.js';
import type { Meter } from '../metering/meter.js';

/** POST /devices response: exactly the seed's fields. */
export function createdDeviceView(d: DeviceRecord, credentials: MqttCredentials): Record<string, unknown> {
  return { device_id: d.device_id, name: d.name, type: d.type, status: d.status, mqtt_credentials: credentials, created_at: d.created_at };
}

/** A device in lists: its record (never the password hash) and whether it is online. */
export function deviceView(d: DeviceRecord, presence: Presence): Record<string, unknown> {
  return {
    device_id: d.device_id,
    name: d.name,
    description: d.description,
    type: d.type,
    status: d.status,
    metadata: d.metadata,
    created_at: d.created_at,
    updated_at: d.updated_at,
    online: presence.isOnline(d.device_id),
    last_seen: presence.lastSeenIso(d.device_id),
  };
}

/** GET /devices/{id}: the list view plus this month's counters. */
export function deviceDetailView(d: DeviceRecord, presence: Presence, meter: Meter): Record<string, unknown> {
  const u = meter.deviceMonth(d.device_id);
  return {
    ...deviceView(d, presence),
    messages_in: u.messages_in,
    messages_out: u.messages_out,
    bytes_in: u.bytes_in,
    bytes_out: u.bytes_out,
    throttled: u.throttled,
    rejected: u.rejected,
    counters_period: meter.currentMonth,
  };
}
