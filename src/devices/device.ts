/** A registered device as stored (docs/STORE.md). The password exists only as a slow hash. */
export interface DeviceRecord {
  device_id: string;
  name: string;
  description: string;
  type: string;
  metadata: Record<string, unknown>;
  status: DeviceStatus;
  password_hash: string;
  created_at: string;
  updated_at: string;
  /** Registration order (ms since epoch, made unique): created_at has whole seconds like the seed. */
  created_ms: number;
}

export const DEVICE_STATUSES = ['active', 'disabled'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/** `iot_dev_` + 12 characters keeps ids within MQTT 3.1's 23-character client id limit. */
export const DEVICE_ID_PREFIX = 'iot_dev_';
export const DEVICE_ID_PATTERN = /^iot_dev_[a-z0-9]{12}$/;

export interface MqttCredentials { username: string; password: string; client_id: string }
