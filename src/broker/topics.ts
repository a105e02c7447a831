/**
 * The MQTT topic templates of the seed. The ACL (src/broker/acl.ts) is built on these names only.
 */
export const DEVICE_PUBLISH_SUFFIXES = ['telemetry', 'events', 'status'] as const;
export const DEVICE_SUBSCRIBE_SUFFIXES = ['commands', 'config', 'firmware'] as const;

export function deviceTopic(deviceId: string, suffix: string): string {
  return `devices/${deviceId}/${suffix}`;
}
