import t from 'tap';
import { Writable } from 'node:stream';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { Gateway } from '../../src/gateway.js';
import { tempDir, removeDir } from '../helpers/gateway.js';
import { apiClient } from '../helpers/http.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';
import type { PlatformStats } from '../../src/health/platform-stats.js';

const DAY = 86_400_000;

t.test('the certificate check warns in /stats and in the log inside health.cert_warn_days', async (t) => {
  const dataDir = tempDir();
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); done(); } });
  let clock = Date.now();
  const config = loadConfig({
    env: {
      WAYS_EDGE_DATA_DIR: dataDir, WAYS_EDGE_API_HOST: '127.0.0.1', WAYS_EDGE_API_PORT: '0', WAYS_EDGE_MQTT_HOST: '127.0.0.1', WAYS_EDGE_MQTT_PORT: '0',
      WAYS_EDGE_CLOUD_URL: '', WAYS_EDGE_DISCOVERY_ENABLED: 'false', WAYS_EDGE_LOG_LEVEL: 'warn', WAYS_EDGE_HEALTH_CERT_WARN_DAYS: '30',
    },
    cwd: dataDir,
  });
  const gateway = new Gateway(config, createLogger('warn', sink), { now: () => new Date(clock) });
  await gateway.start();
  const api = apiClient(`https://127.0.0.1:${gateway.apiPort}`, gateway.tlsMaterial.caPem, readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim());
  t.teardown(async () => { await api.close(); await gateway.stop(); removeDir(dataDir); });

  const notAfter = gateway.tlsMaterial.notAfter.getTime();
  const stats = async (): Promise<PlatformStats> => (await api.get<PlatformStats>('/v1/iot/stats')).body;
  t.equal((await stats()).certificate?.state, 'ok');
  t.notOk(lines.some((l) => String(l.event).startsWith('certificate_')), 'no warning while the certificate is far from expiry');

  clock = notAfter - 10 * DAY - 60_000;
  await gateway.jobs.runNow('cert_check');
  const s = await stats();
  t.match(s.certificate, { state: 'expiring', expires_in_days: 10 });
  t.ok(s.warnings.some((w) => w.code === 'certificate_expiring' && /10 days/.test(w.message)), 'a certificate_expiring warning');
  t.ok(lines.some((l) => l.event === 'certificate_expiring' && l.level === 'warn'), 'and a log line');
  const m = parsePrometheus((await api.get('/metrics')).text);
  const expiry = sampleValue(m, 'ways_edge_certificate_expiry_seconds') ?? 0;
  t.ok(Math.abs(expiry - (10 * DAY + 60_000) / 1000) < 2, `the metric counts down with the same clock (${expiry} s)`);
  t.equal(sampleValue(m, 'ways_edge_warning', { code: 'certificate_expiring' }), 1);

  clock = notAfter + DAY;
  await gateway.jobs.runNow('cert_check');
  const after = await stats();
  t.equal(after.certificate?.state, 'expired');
  t.ok(after.warnings.some((w) => w.code === 'certificate_expired'));
  t.notOk(after.warnings.some((w) => w.code === 'certificate_expiring'), 'one certificate warning at a time');
  t.ok(lines.some((l) => l.event === 'certificate_expired'));
});
