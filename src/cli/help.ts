export const HELP = `ways-edge — the building's IoT gateway

Usage:
  ways-edge start [--config FILE]          run the gateway (default config: ./gateway.yaml, else built-in defaults)
  ways-edge keys create NAME --scopes admin,read,mqtt [--config FILE]
                                           create an API key; it is printed once
  ways-edge keys list [--config FILE]      list API keys (names and scopes, never the keys)
  ways-edge keys revoke NAME [--config FILE]
                                           revoke an API key at once
  ways-edge check-config [--config FILE]   validate gateway.yaml and print every problem
  ways-edge backup FILE [--gzip] [--config FILE]
                                           save devices, key hashes, device configs and certificates
                                           (CA key included) to FILE, mode 0600 (.gz or --gzip
                                           compresses; FILE - is stdout). The gateway must be stopped.
  ways-edge restore FILE [--force] [--config FILE]
                                           restore a backup (FILE - is stdin) into an empty data
                                           directory; --force moves the data there aside first.
                                           The gateway must be stopped.
  ways-edge repair-store [--config FILE]   after the gateway refused to start over a damaged store: copy
                                           data_dir/db aside, repair it with LevelDB, report what is left
                                           (docs/OPERATIONS.md "Recovering a damaged store")
  ways-edge --help | --version

The keys commands talk to the running gateway through its API (with the key in WAYS_EDGE_API_KEY or
the data directory's admin.key); when the gateway is stopped they open its store directly.

SIGHUP (systemctl reload) re-reads the certificate files without dropping connected devices.
A backup holds no API key itself, only hashes: keep your admin key, or after a restore make one with
'ways-edge keys create NAME --scopes admin' before starting. Usage history and the outbox are not backed up.

Environment overrides win over gateway.yaml: WAYS_EDGE_CONFIG, WAYS_EDGE_DATA_DIR, WAYS_EDGE_API_HOST,
WAYS_EDGE_API_PORT, WAYS_EDGE_MQTT_HOST, WAYS_EDGE_MQTT_PORT, WAYS_EDGE_MQTT_RATE_LIMIT, WAYS_EDGE_CLOUD_URL,
WAYS_EDGE_CLOUD_USERNAME, WAYS_EDGE_CLOUD_PASSWORD, WAYS_EDGE_CLOUD_CA, WAYS_EDGE_LOG_LEVEL; in general the
setting a.b_c is WAYS_EDGE_A_B_C (see README).
`;
