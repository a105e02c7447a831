import mqtt, { type MqttClient } from 'mqtt';
import type { RegisteredDevice } from '../../helpers/devices.js';

/** A device connected to the gateway's TLS MQTT listener with its registration credentials (no reconnects). */
export function connectDevice(port: number, caPem: string, device: RegisteredDevice): Promise<MqttClient> {
  const c = device.mqtt_credentials;
  return mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
    clientId: c.client_id, username: c.username, password: c.password,
    ca: caPem, servername: 'localhost', rejectUnauthorized: true, reconnectPeriod: 0, protocolVersion: 4,
  });
}
