export const HELP = `ways-edge — the building's IoT gateway

Usage:
  ways-edge start [--config FILE]          run the gateway (default config: ./gateway.yaml, else built-in defaults)
  ways-edge keys create NAME --scopes admin,read,mqtt [--config FILE]
                                           create an API key; it is printed once
  ways-edge keys list [--config FILE]      list API keys (names and scopes, never the keys)
  ways-edge keys revoke NAME [--config FILE]
                                           revoke an API key at once
  ways-edge check-config [--config FILE]   validate gateway.yaml and print every problem
  ways-edge --help | --version

The keys commands talk to the running gateway through its API (with the key in WAYS_EDGE_API_KEY or
the data directory's admin.key); when the gateway is stopped they open its store directly.

Environment overrides win over gateway.yaml: WAYS_EDGE_CONFIG, WAYS_EDGE_DATA_DIR, WAYS_EDGE_API_HOST,
WAYS_EDGE_API_PORT, WAYS_EDGE_MQTT_HOST, WAYS_EDGE_MQTT_PORT, WAYS_EDGE_MQTT_RATE_LIMIT, WAYS_EDGE_CLOUD_URL,
WAYS_EDGE_CLOUD_USERNAME, WAYS_EDGE_CLOUD_PASSWORD, WAYS_EDGE_CLOUD_CA, WAYS_EDGE_LOG_LEVEL; in general the
setting a.b_c is WAYS_EDGE_A_B_C (see README).
`;
