import os from 'node:os';
import { Router } from '@koa/router';
import type { ApiDeps, ApiState } from '../context.js';
import { DEVICE_PUBLISH_SUFFIXES, DEVICE_SUBSCRIBE_SUFFIXES } from '../../broker/topics.js';

/** GET /credentials: how a device connects — host(s), port, protocol, the CA and the topic templates. */
export function credentialsRouter(deps: ApiDeps): Router<ApiState> {
  const router = new Router<ApiState>();
  router.get('/credentials', (ctx) => {
    const { api, mqtt } = deps.config;
    const host = api.public_host || `${os.hostname()}.local`;
    const hosts = [...new Set([host, os.hostname(), ...lanAddresses()])];
    ctx.body = {
      host,
      hosts,
      port: deps.mqttPort() || mqtt.port,
      protocol: 'mqtts',
      tls_versions: ['TLSv1.2', 'TLSv1.3'],
      mqtt_versions: ['3.1', '3.1.1'],
      username: '{device_id}',
      client_id: '{device_id}',
      password: 'the password returned when the device was registered or its credentials rotated',
      ca_certificate: deps.tls().caPem,
      topics: {
        publish: DEVICE_PUBLISH_SUFFIXES.map((s) => `devices/{device_id}/${s}`),
        subscribe: DEVICE_SUBSCRIBE_SUFFIXES.map((s) => `devices/{device_id}/${s}`),
      },
      limits: { max_message_bytes: mqtt.max_message_bytes, messages_per_second: mqtt.rate_limit },
    };
  });
  return router;
}

function lanAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => !a.internal && a.family === 'IPv4').map((a) => a.address));
}
