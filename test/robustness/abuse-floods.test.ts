import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { registerDevice, type RegisteredDevice } from '../helpers/devices.js';
import { Heartbeat, deviceClientOptions, formatHeartbeat, percentile } from './helpers/heartbeat.js';
import { rawApp, spawnUnderTest } from './helpers/gateway-under-test.js';
import { MiB, mb, PeakSampler } from './helpers/process.js';

const FLOOD_JS = path.resolve(import.meta.dirname, 'fixtures/connect-flood.js');
/** The password guesser: 200 CONNECTs a second for 5 s, from its own loopback address. */
const GUESSES_PER_SECOND = 200;
const GUESS_SECONDS = 5;
const ATTACKER_ADDRESS = '127.0.0.2';
/** Publishers and what each sends while an application subscriber is frozen. */
const PUBLISHERS = 3;
const MESSAGES_EACH = 1_500;
const PAYLOAD_BYTES = 4_096;

t.test('floods: a frozen subscriber and a password guesser do not stop the gateway serving everyone else', async (t) => {
  const g = await spawnUnderTest(t, { WAYS_EDGE_MQTT_RATE_LIMIT: '0' });
  const { api, target } = g;
  const heartbeat = new Heartbeat(target, await registerDevice(api, 'floods-heartbeat'));
  await heartbeat.start();
  const rssStart = g.rss();
  const peak = new PeakSampler(g.rss);

  await t.test('an application subscriber that stops reading is disconnected; publishers and other subscribers go on at full speed', async (t) => {
    const key = (await api.post<{ key: string }>('/v1/iot/keys', { name: 'bms', scopes: ['mqtt'] })).body.key;
    const frozen = await rawApp(target, 'bms', key, 'frozen-bms');
    t.teardown(() => frozen.destroy());
    frozen.send(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'devices/+/telemetry', qos: 1 }] }));
    t.same([...(await frozen.read(5, 5_000)).bytes], [0x90, 3, 0, 1, 1], 'the frozen one subscribed to all telemetry at QoS 1');
    frozen.socket.pause();

    const healthy = await mqtt.connectAsync({ host: '127.0.0.1', port: target.port, protocol: 'mqtts', ca: target.caPem, servername: 'localhost', reconnectPeriod: 0, username: 'app:bms', password: key, clientId: 'healthy-bms' });
    t.teardown(() => healthy.endAsync(true));
    let received = 0;
    healthy.on('message', (_topic, p) => { if (p.length === PAYLOAD_BYTES) received += 1; });
    await healthy.subscribeAsync('devices/+/telemetry', { qos: 0 });

    const devices: RegisteredDevice[] = [];
    for (let i = 0; i < PUBLISHERS; i++) devices.push(await registerDevice(api, `floods-publisher-${i}`));
    const clients = await Promise.all(devices.map((d) => mqtt.connectAsync(deviceClientOptions(target, d))));
    t.teardown(() => Promise.all(clients.map((c) => c.endAsync(true))));
    const slow = g.gw.waitForLog('mqtt_slow_consumer', 60_000);
    const payload = Buffer.alloc(PAYLOAD_BYTES, 0x41);
    const t0 = performance.now();
    const acked = await Promise.all(clients.map(async (c, i) => {
      const topic = `devices/${(devices[i] as RegisteredDevice).device_id}/telemetry`;
      let n = 0;
      for (let sent = 0; sent < MESSAGES_EACH; sent += 50) {
        await Promise.all(Array.from({ length: 50 }, () => c.publishAsync(topic, payload, { qos: 1 }).then(() => { n += 1; })));
      }
      return n;
    }));
    const seconds = (performance.now() - t0) / 1000;
    t.same(acked, devices.map(() => MESSAGES_EACH), `every publish acknowledged: ${PUBLISHERS} × ${MESSAGES_EACH} × ${PAYLOAD_BYTES / 1024} KB in ${seconds.toFixed(1)} s`);
    t.ok(seconds < 30, 'without waiting for the frozen subscriber');
    const logged = await slow;
    t.match(logged, { client_id: 'frozen-bms' }, `the frozen subscriber was disconnected after ${mb(Number(logged.unsent_bytes))} unread`);
    // The healthy subscriber's last messages may still be on their way: a last publish marks the end.
    const last = clients[0] as mqtt.MqttClient;
    const marker = new Promise<void>((resolve) => healthy.on('message', (_topic, p) => { if (p.toString() === 'end') resolve(); }));
    await last.publishAsync(`devices/${(devices[0] as RegisteredDevice).device_id}/telemetry`, 'end', { qos: 1 });
    await marker;
    t.equal(received, PUBLISHERS * MESSAGES_EACH, 'a subscriber that reads got every message');
    t.same(g.gw.logs.filter((l) => l.event === 'mqtt_slow_consumer').map((l) => l.client_id), ['frozen-bms'], 'only the frozen subscriber was disconnected as too slow');
  });

  await t.test(`${GUESSES_PER_SECOND} wrong-password CONNECTs a second for ${GUESS_SECONDS} s: devices elsewhere still connect and publish`, async (t) => {
    const victim = await registerDevice(api, 'floods-victim');
    const caFile = path.join(g.gw.dataDir, 'certs', 'ca.crt');
    const attacker = spawn(process.execPath, [FLOOD_JS, String(target.port), caFile, victim.device_id, String(GUESSES_PER_SECOND), String(GUESS_SECONDS), ATTACKER_ADDRESS], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => { if (attacker.exitCode === null) attacker.kill('SIGKILL'); });
    let out = '';
    attacker.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    const finished = new Promise<number | null>((resolve) => attacker.once('exit', resolve));

    // While it runs: a device connects every 400 ms (scrypt like the guesses) and publishes.
    const legit: RegisteredDevice[] = [];
    for (let i = 0; i < 10; i++) legit.push(await registerDevice(api, `floods-legit-${i}`));
    const connectMs: number[] = [];
    for (const d of legit) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      const t0 = performance.now();
      const c = await mqtt.connectAsync(deviceClientOptions(target, d));
      connectMs.push(performance.now() - t0);
      await c.publishAsync(`devices/${d.device_id}/telemetry`, '{"ok":true}', { qos: 1 });
      await c.endAsync();
    }
    t.equal(await finished, 0, 'the guesser ran to the end');
    const report = JSON.parse(out) as { attempts: number; codes: Record<string, number>; peakOpen: number; answerP50: number; answerMax: number };
    t.comment(`guesser: ${JSON.stringify(report)}`);
    t.equal(report.attempts, GUESSES_PER_SECOND * GUESS_SECONDS);
    t.notOk(report.codes['connack 0'], 'no guess got in');
    t.ok((report.codes['connack 4'] ?? 0) < 100, `passwords were checked for only ${report.codes['connack 4'] ?? 0} guesses; the rest were refused unchecked while the address backs off (CONNACK 3: ${report.codes['connack 3'] ?? 0})`);
    t.equal(connectMs.length, legit.length, `${legit.length} devices connected and published during the attack`);
    t.ok(percentile(connectMs, 100) < 3_000, `CONNECT→CONNACK of devices elsewhere: p50 ${percentile(connectMs, 50).toFixed(0)} ms, max ${percentile(connectMs, 100).toFixed(0)} ms`);
    const vc = await mqtt.connectAsync(deviceClientOptions(target, victim));
    await vc.publishAsync(`devices/${victim.device_id}/telemetry`, '{"still":"mine"}', { qos: 1 });
    await vc.endAsync();
    t.pass('the device whose password was guessed still logs in (no lock-out by username)');
  });

  const beat = await heartbeat.stop();
  const rssPeak = peak.stop();
  t.equal(g.gw.child.exitCode, null, 'the gateway is still running');
  t.equal(beat.failed, 0, 'the heartbeat device never lost its connection');
  t.ok(beat.acked === beat.sent && beat.p99 < 1_000, `p99 publish→PUBACK under 1 s throughout: ${formatHeartbeat(beat)}`);
  t.ok(rssPeak - rssStart < 256 * MiB, `gateway RSS ${mb(rssStart)} at the start, peak ${mb(rssPeak)}, ${mb(g.rss())} at the end`);
});
