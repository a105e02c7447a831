import t, { type Test } from 'tap';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { withGateway } from '../helpers/fixture.js';
import { registerDevice, type RegisteredDevice } from '../helpers/devices.js';
import { tempDir, removeDir } from '../helpers/gateway.js';
import { connectDevice, createKey, tlsOptions } from '../broker/mqtt-helpers.js';

/**
 * The dashboard end to end in a real browser (Debian's chromium, driven by playwright-core) against a
 * real gateway: sign in, register a device through the page, connect it with a real MQTT client and
 * watch it go online and its rate move without a reload, send it a command, disable it, sign out.
 * Also takes the screenshots of docs/DASHBOARD.md: into docs/screenshots/ when WAYS_EDGE_SCREENSHOTS=1
 * (so that a test run does not rewrite tracked files), else into a temporary directory.
 */
const CHROMIUM = process.env.WAYS_EDGE_CHROMIUM ?? '/usr/bin/chromium';
const DOC_SCREENSHOTS = path.resolve(import.meta.dirname, '../../../docs/screenshots');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

async function launch(t: Test): Promise<BrowserContext> {
  const profile = tempDir('ways-edge-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ignoreHTTPSErrors: true,
    viewport: DESKTOP,
    acceptDownloads: true,
  });
  t.teardown(async () => { await context.close(); removeDir(profile); });
  return context;
}

/** Every CSP violation and uncaught error of a page (the page must have none). */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => { if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(`console: ${msg.text()}`); });
  return problems;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address() as net.AddressInfo; server.close(() => resolve(port)); });
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#live-status.live').waitFor({ timeout: 15_000 });
}

async function shoot(page: Page, dir: string, name: string, size: { width: number; height: number }): Promise<void> {
  await page.setViewportSize(size);
  // Charts follow their container through a ResizeObserver, whose callbacks run before the next frame
  // is painted: after two frames they have redrawn at the new size.
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

t.test('the dashboard in a browser: sign in, register, live state and rate, command, disable, sign out', { timeout: 170_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`no browser at ${CHROMIUM}: apt-get install -y chromium (or set WAYS_EDGE_CHROMIUM)`);
    return;
  }
  const screenshots = process.env.WAYS_EDGE_SCREENSHOTS === '1' ? DOC_SCREENSHOTS : tempDir('ways-edge-screenshots-');
  if (screenshots !== DOC_SCREENSHOTS) t.teardown(() => removeDir(screenshots));
  mkdirSync(screenshots, { recursive: true });
  // A fixed MQTT port (found free just before), so that GET /credentials, and so the page's snippets, name the real one.
  const { gw, api } = await withGateway(t, { env: { WAYS_EDGE_MQTT_PORT: String(await freePort()) } });
  const target = { port: gw.gateway.mqttPort, caPem: gw.caPem };
  t.ok(target.port > 0, 'the broker listens');

  // Neighbours for the screenshots: a few devices, two of them talking.
  const neighbours: RegisteredDevice[] = [];
  for (const [name, type] of [['Hall CO2', 'sensor'], ['Water meter', 'meter'], ['Roof weather station', 'sensor'], ['Garage door', 'actuator']] as const) {
    neighbours.push(await registerDevice(api, name, type));
  }
  const chatter: MqttClient[] = [];
  for (const d of neighbours.slice(0, 2)) chatter.push(await connectDevice(t, target, d));
  const chatterTimer = setInterval(() => {
    for (const [i, c] of chatter.entries()) void c.publishAsync(`devices/${neighbours[i]?.device_id}/telemetry`, JSON.stringify({ v: Math.random() }), { qos: 1 }).catch(() => undefined);
  }, 250);
  t.teardown(() => clearInterval(chatterTimer));

  const context = await launch(t);
  const page = await context.newPage();
  const problems = watchProblems(page);

  // Sign in with the admin key; it is kept in sessionStorage only.
  await signIn(page, gw.baseUrl, gw.adminKey);
  t.equal(await page.evaluate('sessionStorage.getItem("ways-edge.api-key")'), gw.adminKey, 'the key is in sessionStorage');
  t.equal(await page.evaluate('localStorage.length + document.cookie.length'), 0, 'and nowhere else');
  t.equal(await page.locator('#key-role').textContent(), 'admin');

  // Register a device through the page; the password is shown once.
  await page.getByRole('link', { name: 'Devices', exact: true }).click();
  await page.locator('#register-link').click();
  await page.getByLabel('Name').fill('Boiler room temperature');
  await page.getByLabel('Type').fill('sensor');
  await page.getByLabel('Metadata (JSON object, optional)').fill('{"floor": -1}');
  await page.getByRole('button', { name: 'Register' }).click();
  const password = (await page.locator('#shown-password').textContent({ timeout: 10_000 })) ?? '';
  const deviceId = (await page.locator('#shown-device-id').textContent()) ?? '';
  t.match(deviceId, /^iot_dev_[a-z0-9]{12}$/);
  t.match(password, /^[0-9A-Za-z]{32}$/);
  const mosquitto = (await page.locator('#snippet-mosquitto').textContent({ timeout: 10_000 })) ?? '';
  t.match(mosquitto, `-h '127.0.0.1' -p ${target.port} --cafile ways-edge-ca.crt`, 'the snippet names this gateway and its MQTT port');
  t.match(mosquitto, `-i ${deviceId} -u ${deviceId} -P '${password}'`);
  t.match(await page.locator('#snippet-paho').textContent(), `MQTT_PORT = ${target.port}`);
  t.match(await page.locator('#snippet-mqttjs').textContent(), `port: ${target.port},`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#ca-download').click()]);
  t.equal(download.suggestedFilename(), 'ways-edge-ca.crt');
  t.equal(readFileSync(await download.path(), 'utf8'), gw.caPem, 'the CA download is the gateway\'s CA');

  // The device page, then the device connects with what the page showed: online and a rate, no reload.
  await page.locator('#open-device').click();
  await page.locator('#device-badges[data-online="false"]').waitFor();
  await page.evaluate('window.noReload = true');
  const device = await mqtt.connectAsync(tlsOptions(target, { username: deviceId, password, clientId: deviceId, clean: false }));
  device.on('error', () => undefined);
  t.teardown(() => device.endAsync(true));
  await device.subscribeAsync(`devices/${deviceId}/commands`, { qos: 1 });
  await page.locator('#device-badges[data-online="true"]').waitFor({ timeout: 10_000 });
  t.pass('the device page shows the device online');
  let n = 0;
  const telemetry = setInterval(() => { void device.publishAsync(`devices/${deviceId}/telemetry`, JSON.stringify({ celsius: 60 + (n++ % 5) }), { qos: 1 }).catch(() => undefined); }, 100);
  t.teardown(() => clearInterval(telemetry));
  // Polled from here: the page's CSP rightly refuses the string evaluation waitForFunction would use.
  await until('a non-zero rate', async () => Number(await page.locator('#device-rate-in').textContent()) > 0, 15_000);
  t.pass('its message rate moves');
  t.equal(await page.evaluate('window.noReload'), true, 'without a reload');

  // For the documentation's pictures only: a few ticks on the rate chart and the counters' refresh.
  if (screenshots === DOC_SCREENSHOTS) await page.waitForTimeout(8_000);
  await shoot(page, screenshots, 'device-desktop', DESKTOP);
  await shoot(page, screenshots, 'device-phone', PHONE);
  await page.setViewportSize(DESKTOP);
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.locator('#devices-card').filter({ hasText: /3\s*online/ }).waitFor({ timeout: 15_000 });
  t.match(await page.locator('#devices-card').textContent(), /3\s*online/, 'the overview counts the online devices');
  await shoot(page, screenshots, 'overview-desktop', DESKTOP);
  await shoot(page, screenshots, 'overview-phone', PHONE);
  for (const name of ['device-desktop', 'device-phone', 'overview-desktop', 'overview-phone']) {
    t.same(readFileSync(path.join(screenshots, `${name}.png`)).subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), `${name}.png is a PNG`);
  }
  await page.setViewportSize(DESKTOP);

  // A command sent through the page reaches the device.
  await page.goto(`${gw.baseUrl}/#/devices/${deviceId}`);
  await page.locator('#device-badges[data-online="true"]').waitFor();
  const received = new Promise<Record<string, unknown>>((resolve) => {
    device.on('message', (topic, payload) => { if (topic === `devices/${deviceId}/commands`) resolve(JSON.parse(payload.toString()) as Record<string, unknown>); });
  });
  await page.getByLabel('Command', { exact: true }).fill('set_interval');
  await page.getByLabel('Parameters (JSON object, optional)').fill('{"seconds": 30}');
  await page.getByRole('button', { name: 'Send command' }).click();
  await page.locator('#command-result [data-status="delivered"]').waitFor({ timeout: 10_000 });
  t.match(await received, { command: 'set_interval', params: { seconds: 30 } }, 'the device received the command');

  // Disable: the device is disconnected, and the page shows it.
  const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
  await page.locator('#toggle-status').click();
  await page.locator('#device-badges[data-status="disabled"][data-online="false"]').waitFor({ timeout: 10_000 });
  await closed;
  t.pass('disabled: the device went offline');
  t.equal(await page.locator('#toggle-status').textContent(), 'Enable');

  // When the stream drops, the page says it is not live and polls; it goes live again when it can.
  await page.route('**/v1/iot/events*', (route) => route.abort());
  await gw.gateway.events.stop();
  await gw.gateway.events.start();
  await page.locator('#live-status.polling').waitFor({ timeout: 15_000 });
  t.match(await page.locator('#live-status').textContent(), /Not live/);
  await page.unroute('**/v1/iot/events*');
  await page.locator('#live-status.live').waitFor({ timeout: 40_000 });
  t.pass('back to live after the stream returned');

  // A read key sees everything and is offered no action.
  const readKey = await createKey(api, 'viewer', ['read']);
  const reader = await context.newPage();
  const readerProblems = watchProblems(reader);
  await signIn(reader, gw.baseUrl, readKey);
  t.equal(await reader.locator('#key-role').textContent(), 'read-only');
  await reader.goto(`${gw.baseUrl}/#/devices`);
  await reader.locator(`tr[data-device-id="${deviceId}"]`).waitFor();
  t.equal(await reader.locator('#register-link').count(), 0, 'no register button for a read key');
  await reader.locator(`tr[data-device-id="${deviceId}"] a`).click();
  await reader.locator('#device-badges').waitFor();
  await reader.locator('#details-card dd').first().waitFor();
  t.equal(await reader.locator('#device-actions').count(), 0, 'no actions for a read key');
  await reader.close();

  // Sign out: the key is forgotten and the stream closed.
  await page.locator('#sign-out').click();
  await page.locator('#api-key').waitFor();
  t.equal(await page.evaluate('sessionStorage.getItem("ways-edge.api-key")'), null, 'signing out forgets the key');
  await page.reload();
  await page.locator('#api-key').waitFor();
  t.pass('a reload after signing out asks for a key again');
  const end = Date.now() + 5_000;
  while (gw.gateway.events.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  t.equal(gw.gateway.events.size, 0, 'no event stream is left open');

  t.same(problems, [], 'no CSP violation or script error');
  t.same(readerProblems, []);
});
