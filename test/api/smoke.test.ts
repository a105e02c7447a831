import t from 'tap';
import { startGateway, removeDir } from '../helpers/gateway.js';
import { apiClient } from '../helpers/http.js';

t.test('the gateway answers /quota with the seed fields', async (t) => {
  const gw = await startGateway();
  const api = apiClient(gw.baseUrl, gw.caPem, gw.adminKey);
  t.teardown(async () => { await api.close(); await gw.stop(); removeDir(gw.dataDir); });
  const res = await api.get('/v1/iot/quota');
  t.equal(res.status, 200);
  t.same(Object.keys(res.body as object).sort(), ['current_bandwidth_gb', 'current_devices', 'current_messages', 'max_bandwidth_gb', 'max_devices', 'max_messages_per_month']);
});
