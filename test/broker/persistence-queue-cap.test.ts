import t from 'tap';
import type { Logger } from '../../src/log.js';
import type { Gateway } from '../../src/gateway.js';
import { SUBLEVEL, clientRange } from '../../src/broker/persistence/keys.js';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice } from '../helpers/devices.js';
import { collect, connectApp, connectDevice, createKey, subscribed, untilCount } from './mqtt-helpers.js';

const CAP = 20;
const SENT = CAP + 15;
const APP_CLIENT = 'app-queuecap-persistent';

/** Polls `check` until it holds; fails after `timeoutMs` with what it was waiting for. */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Log lines the gateway writes at warn and info (the test gateway's logger is silent otherwise). */
function captureLogs(log: Logger): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const level of ['warn', 'info'] as const) {
    const original = log[level].bind(log);
    log[level] = ((obj: unknown, ...rest: unknown[]) => {
      if (typeof obj === 'object' && obj !== null) lines.push({ level, ...(obj as Record<string, unknown>), msg: rest[0] });
      return (original as (...args: unknown[]) => void)(obj, ...rest);
    }) as Logger['warn'];
  }
  return lines;
}

/** Payloads of the client's queued messages as they are stored in the gateway's LevelDB. */
async function storedQueue(gateway: Gateway, clientId: string): Promise<{ headers: number; payloads: string[] }> {
  const sessions = gateway.store.json<unknown>('sessions');
  const binary = { keyEncoding: 'utf8', valueEncoding: 'buffer' } as const;
  let headers = 0;
  for await (const _key of sessions.sublevel<string, Buffer>(SUBLEVEL.outgoing, binary).keys(clientRange(clientId))) headers += 1;
  const payloads: string[] = [];
  for await (const value of sessions.sublevel<string, Buffer>(SUBLEVEL.outgoingPayload, binary).values(clientRange(clientId))) payloads.push(value.toString());
  return { headers, payloads };
}

t.test(`an offline persistent session keeps the newest ${CAP} messages (mqtt.max_queued_messages_per_client), drops and counts the rest`, async (t) => {
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_MQTT_RATE_LIMIT: '0', WAYS_EDGE_MQTT_MAX_QUEUED_MESSAGES_PER_CLIENT: String(CAP) } });
  const logs = captureLogs(gw.gateway.log);
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  const device = await registerDevice(api, 'queue-cap-sensor');
  const key = await createKey(api, 'queuecap', ['mqtt']);
  const topic = `devices/${device.device_id}/telemetry`;
  const connected = (): number => Number(gw.gateway.stats.broker?.().connected_apps ?? -1);

  // A persistent application session subscribes, then goes away.
  const first = await connectApp(t, target, 'queuecap', key, { clientId: APP_CLIENT, clean: false });
  const granted = subscribed(gw.gateway, APP_CLIENT, 'devices/+/telemetry');
  await first.subscribeAsync('devices/+/telemetry', { qos: 1 });
  await granted;
  await first.endAsync();
  await until(() => connected() === 0, 'the broker saw the application leave');

  // More than the cap is published while it is offline; every message is acknowledged to the device.
  const sensor = await connectDevice(t, target, device);
  for (let n = 0; n < SENT; n++) await sensor.publishAsync(topic, `m${n}`, { qos: 1 });
  const newest = Array.from({ length: CAP }, (_, i) => `m${SENT - CAP + i}`);
  await until(async () => JSON.stringify((await storedQueue(gw.gateway, APP_CLIENT)).payloads) === JSON.stringify(newest), 'the queue holds the newest messages');
  t.same(await storedQueue(gw.gateway, APP_CLIENT), { headers: CAP, payloads: newest }, `the store holds exactly the newest ${CAP} for the offline session, no more`);

  const full = logs.filter((l) => l.event === 'mqtt_queue_full');
  t.equal(full.length, 1, 'one warning for the episode, not one per dropped message');
  t.match(full[0], { level: 'warn', client_id: APP_CLIENT, limit: CAP });
  const metrics = await api.get('/metrics');
  t.match(metrics.text, new RegExp(`^ways_edge_mqtt_queued_dropped_total ${SENT - CAP}$`, 'm'), `/metrics counts the ${SENT - CAP} dropped messages`);

  // Back online: exactly the newest CAP, oldest first, then live traffic as usual.
  const again = await connectApp(t, target, 'queuecap', key, { clientId: APP_CLIENT, clean: false });
  const got = collect(again);
  await untilCount(again, got, CAP);
  await sensor.publishAsync(topic, 'live', { qos: 1 });
  await untilCount(again, got, CAP + 1);
  t.same(got.map((m) => m.payload.toString()), [...newest, 'live'], `the reconnected session gets the newest ${CAP} in order and nothing older`);
  const dropped = logs.filter((l) => l.event === 'mqtt_queue_dropped');
  t.equal(dropped.length, 1, 'one summary when the client is back');
  t.match(dropped[0], { level: 'info', client_id: APP_CLIENT, dropped: SENT - CAP, limit: CAP });
  t.notMatch(JSON.stringify(logs.filter((l) => String(l.event).startsWith('mqtt_queue'))), /"m\d+"|live/, 'no payload in those log lines');
  await until(async () => (await storedQueue(gw.gateway, APP_CLIENT)).headers === 0, 'the acknowledged queue is emptied');
});
