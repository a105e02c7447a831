import type { Test } from 'tap';
import { startGateway, removeDir, type StartOptions, type TestGateway } from './gateway.js';
import { apiClient, type ApiClient } from './http.js';

/** A started gateway plus an admin API client, torn down with the test. */
export async function withGateway(t: Test, opts: StartOptions = {}): Promise<{ gw: TestGateway; api: ApiClient }> {
  const gw = await startGateway(opts);
  const api = apiClient(gw.baseUrl, gw.caPem, gw.adminKey);
  t.teardown(async () => {
    await api.close();
    await gw.stop();
    if (!opts.keep) removeDir(gw.dataDir);
  });
  return { gw, api };
}
