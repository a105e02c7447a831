/**
 * The environment of a gateway under test or bench: its own data directory, loopback listeners on
 * ephemeral ports, no uplink (a test that wants one sets WAYS_EDGE_CLOUD_URL) and no mDNS
 * announcements on the LAN (test/discovery switches it on for itself).
 */
export function loopbackGatewayEnv(dataDir: string): Record<string, string> {
  return {
    WAYS_EDGE_DATA_DIR: dataDir,
    WAYS_EDGE_API_HOST: '127.0.0.1',
    WAYS_EDGE_API_PORT: '0',
    WAYS_EDGE_MQTT_HOST: '127.0.0.1',
    WAYS_EDGE_MQTT_PORT: '0',
    WAYS_EDGE_CLOUD_URL: '',
    WAYS_EDGE_DISCOVERY_ENABLED: 'false',
  };
}
