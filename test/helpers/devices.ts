import type { ApiClient } from './http.js';

export interface RegisteredDevice {
  device_id: string;
  name: string;
  type: string;
  status: string;
  mqtt_credentials: { username: string; password: string; client_id: string };
  created_at: string;
}

let counter = 0;

/** Registers a device through the API and returns the seed's response. */
export async function registerDevice(api: ApiClient, name = `Sensor ${process.pid}-${++counter}`, type = 'sensor'): Promise<RegisteredDevice> {
  const res = await api.post<RegisteredDevice>('/v1/iot/devices', { name, type });
  if (res.status !== 201) throw new Error(`registering ${name} failed: ${res.status} ${res.text}`);
  return res.body;
}
