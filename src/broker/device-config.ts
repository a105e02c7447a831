import { SYNC, type JsonSublevel, type Store } from '../store/store.js';

/** A device's configuration document as PUT through the API, and when. */
export interface StoredConfig {
  config: Record<string, unknown>;
  updated_at: string;
}

export const KEY_PREFIX = 'config!';

/**
 * The last configuration sent to each device, kept in the `state` sublevel (docs/STORE.md) so that
 * GET /devices/{id}/config can return it. The device itself gets it as the retained message on
 * `devices/{id}/config`; this copy is the API's view and outlives a cleared retained message.
 */
export class DeviceConfigs {
  private readonly db: JsonSublevel<StoredConfig>;

  constructor(store: Store) {
    this.db = store.json<StoredConfig>('state');
  }

  get(deviceId: string): Promise<StoredConfig | undefined> {
    return this.db.get(KEY_PREFIX + deviceId);
  }

  async put(deviceId: string, config: Record<string, unknown>): Promise<StoredConfig> {
    const stored: StoredConfig = { config, updated_at: new Date().toISOString() };
    await this.db.put(KEY_PREFIX + deviceId, stored, SYNC);
    return stored;
  }

  async remove(deviceId: string): Promise<void> {
    await this.db.del(KEY_PREFIX + deviceId, SYNC);
  }
}
