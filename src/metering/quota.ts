import type { GatewayConfig } from '../config/schema.js';

export const BYTES_PER_GB = 1e9;

/** The seed's /quota shape, exactly these six fields. Bandwidth in GB (10^9 bytes), 3 decimals. */
export function quotaView(quota: GatewayConfig['quota'], currentDevices: number, month: { messages: number; bytes: number }): Record<string, number> {
  return {
    max_devices: quota.max_devices,
    current_devices: currentDevices,
    max_messages_per_month: quota.max_messages_per_month,
    current_messages: month.messages,
    max_bandwidth_gb: quota.max_bandwidth_gb,
    current_bandwidth_gb: Math.round((month.bytes / BYTES_PER_GB) * 1000) / 1000,
  };
}

/** Whether the month's usage has reached a quota (then new messages are refused). */
export function overQuota(quota: GatewayConfig['quota'], month: { messages: number; bytes: number }): 'messages' | 'bandwidth' | undefined {
  if (month.messages >= quota.max_messages_per_month) return 'messages';
  if (month.bytes >= quota.max_bandwidth_gb * BYTES_PER_GB) return 'bandwidth';
  return undefined;
}
