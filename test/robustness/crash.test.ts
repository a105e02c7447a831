import t from 'tap';
import { removeDir, tempDir } from '../helpers/gateway.js';
import { TestCloud } from '../uplink/helpers/cloud.js';
import { checkDelivery } from '../uplink/helpers/check.js';
import { CrashLoop } from './helpers/crash-loop.js';

const GW = 'iot_dev_gwrobustcrash';
/** SIGKILLs in CI; the soak (npm run soak) does at least 20. */
const KILLS = Number(process.env.CRASH_KILLS ?? 3);

t.test(`kill -9 at random points of a QoS 1 load, ${KILLS} times: the store opens every time, nothing acknowledged is lost`, async (t) => {
  const cloud = new TestCloud({ username: GW });
  await cloud.start();
  t.teardown(() => cloud.stop());
  const dataDir = tempDir();
  t.teardown(() => removeDir(dataDir));
  const loop = new CrashLoop({ dataDir, cloud, gatewayId: GW, devices: 5, seed: 0xc4a5, killAfterAcks: [200, 1_500] });
  await loop.start();
  t.teardown(() => loop.gw?.kill9());

  for (let i = 0; i < KILLS; i++) {
    const r = await loop.round();
    t.ok(r.countedOk, `kill ${r.round}: the store opened again; ${r.detail}`);
  }
  await loop.allAtCloud(60_000);
  t.pass(`every one of the ${loop.ackedTotal} acknowledged messages reached the cloud`);
  checkDelivery(t, cloud, loop.acked);
  t.equal(await loop.gw?.stop(), 0, 'and the last gateway stops cleanly');
});
