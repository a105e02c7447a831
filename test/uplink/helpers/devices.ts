import mqtt, { type MqttClient } from 'mqtt';
import type { RegisteredDevice } from '../../helpers/devices.js';

/** A device's MQTT connection to the gateway's TLS listener, with its registration credentials. */
export function connectDevice(port: number, caPem: string, device: RegisteredDevice, opts: { clean?: boolean } = {}): Promise<MqttClient> {
  const c = device.mqtt_credentials;
  return mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
    clientId: c.client_id, username: c.username, password: c.password,
    ca: caPem, servername: 'localhost', rejectUnauthorized: true,
    clean: opts.clean ?? true, reconnectPeriod: 0, protocolVersion: 4,
  });
}

/** Typical JSON telemetry (~120 bytes), numbered so that the cloud side can check order and completeness. */
export function telemetry(n: number, at = new Date()): Buffer {
  return Buffer.from(JSON.stringify({ n, temperature: 22.5 + (n % 10) / 10, humidity: 65, timestamp: at.toISOString() }));
}
