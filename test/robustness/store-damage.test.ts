import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { MAIN_JS, runCli, spawnGateway } from '../helpers/spawn.js';
import { removeDir, tempDir } from '../helpers/gateway.js';
import { apiClient } from '../helpers/http.js';
import { registerDevice, type RegisteredDevice } from '../helpers/devices.js';
import { Heartbeat } from './helpers/heartbeat.js';

const ENV = { WAYS_EDGE_CLOUD_URL: '', WAYS_EDGE_DISCOVERY_ENABLED: 'false', WAYS_EDGE_API_HOST: '127.0.0.1', WAYS_EDGE_API_PORT: '0', WAYS_EDGE_MQTT_HOST: '127.0.0.1', WAYS_EDGE_MQTT_PORT: '0' };
const POINTER = /docs\/OPERATIONS\.md "Recovering a damaged store"/;

interface Attempt { started: boolean; code: number | null; stderr: string; logs: Array<Record<string, unknown>> }

/** `ways-edge start` on a data directory: refused (exit code and message) or ready (then stopped with SIGTERM). */
function attemptStart(dataDir: string): Promise<Attempt> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN_JS, 'start'], { env: { PATH: process.env.PATH ?? '', WAYS_EDGE_DATA_DIR: dataDir, WAYS_EDGE_LOG_LEVEL: 'info', ...ENV }, cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let started = false;
    const logs: Array<Record<string, unknown>> = [];
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      try { logs.push(JSON.parse(line) as Record<string, unknown>); } catch { return; }
      if (logs.at(-1)?.event === 'ready') { started = true; child.kill('SIGTERM'); }
    });
    child.once('exit', (code) => resolve({ started, code, stderr, logs }));
  });
}

/** SHA-256 of every LevelDB data file (LevelDB's own info LOG and LOCK aside). */
function fingerprint(dataDir: string): Record<string, string> {
  const db = path.join(dataDir, 'db');
  const out: Record<string, string> = {};
  for (const name of readdirSync(db).sort()) {
    if (name === 'LOG' || name === 'LOG.old' || name === 'LOCK') continue;
    out[name] = createHash('sha256').update(readFileSync(path.join(db, name))).digest('hex');
  }
  return out;
}

const newest = (dataDir: string, ext: string): string => {
  const files = readdirSync(path.join(dataDir, 'db')).filter((n) => n.endsWith(ext)).sort();
  if (files.length === 0) throw new Error(`no ${ext} file in ${dataDir}/db`);
  return path.join(dataDir, 'db', files.at(-1) as string);
};

/** Where the first usage record's JSON at or after the middle of a log starts (the last one if none). */
const jsonRecordFromMiddle = (file: string): number => {
  const bytes = readFileSync(file);
  const marker = Buffer.from('"messages_in"');
  const at = bytes.indexOf(marker, Math.floor(bytes.length / 2));
  const found = at >= 0 ? at : bytes.lastIndexOf(marker);
  if (found < 0) throw new Error(`no usage record in ${file}`);
  return found;
};

const garble = (file: string, at: number, length = 16): void => {
  const bytes = readFileSync(file);
  for (let i = at; i < Math.min(bytes.length, at + length); i++) bytes[i] = (bytes[i] as number) ^ 0xa5;
  writeFileSync(file, bytes);
};

t.test('a damaged store at start: a clear refusal that leaves the files as they were, and a way back', async (t) => {
  const work = tempDir('ways-edge-damage-');
  t.teardown(() => removeDir(work));

  // Real data: devices, keys, messages and their counters. "log": everything still in the write-ahead
  // log (killed with SIGKILL); "table": flushed into a table by restarts and clean stops.
  const logBase = path.join(work, 'log-base');
  mkdirSync(logBase);
  const gw = await spawnGateway(logBase, { WAYS_EDGE_MQTT_RATE_LIMIT: '0', WAYS_EDGE_DISCOVERY_ENABLED: 'false' });
  t.teardown(() => gw.kill9());
  const api = apiClient(`https://127.0.0.1:${gw.apiPort}`, gw.caPem(), gw.adminKey());
  const devices: RegisteredDevice[] = [];
  for (let i = 0; i < 3; i++) devices.push(await registerDevice(api, `damage-${i}`));
  for (const d of devices) {
    const hb = new Heartbeat({ port: gw.mqttPort, caPem: gw.caPem() }, d, 0);
    await hb.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await hb.stop();
  }
  await api.close();
  await gw.kill9();
  const adminKey = readFileSync(path.join(logBase, 'admin.key'), 'utf8');
  const tableBase = path.join(work, 'table-base');
  cpSync(logBase, tableBase, { recursive: true });
  const restarted = await attemptStart(tableBase);
  t.ok(restarted.started, 'the table copy starts (its log becomes a table)');
  // That start wrote (it replayed the usage journal the kill left, src/metering/usage-journal.ts):
  // one more start and stop, which write nothing, leave a log with nothing for LevelDB to turn into
  // a table when a scenario opens the copy.
  t.ok((await attemptStart(tableBase)).started, 'and starts again');
  t.ok(statSync(newest(tableBase, '.ldb')).size > 1000, 'and holds a table');

  const scenario = (name: string, base: string, damage: (dir: string) => void): string => {
    const dir = path.join(work, name);
    cpSync(base, dir, { recursive: true });
    damage(dir);
    return dir;
  };
  /**
   * `found: 'before-open'`: the damage is seen before LevelDB opens the files, which stay exactly as
   * they were. `'on-read'`: a damaged table is found only when the start reads it; LevelDB has opened
   * the database by then (a new MANIFEST and log of its own), but the tables are untouched.
   */
  const refused = async (t: Test, dir: string, what: RegExp, found: 'before-open' | 'on-read' = 'before-open'): Promise<void> => {
    const tablesOnly = (f: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(f).filter(([n]) => found === 'before-open' || n.endsWith('.ldb')));
    const before = tablesOnly(fingerprint(dir));
    const attempt = await attemptStart(dir);
    t.notOk(attempt.started, 'the gateway does not start');
    t.equal(attempt.code, 1, 'exit code 1');
    t.match(attempt.stderr, what, 'the message says what is damaged');
    t.match(attempt.stderr, POINTER, 'and points to the recovery section');
    t.same(tablesOnly(fingerprint(dir)), before, found === 'before-open' ? 'the damaged files are left exactly as they were (for a backup and a repair)' : 'the tables are left as they were');
    t.equal(readFileSync(path.join(dir, 'admin.key'), 'utf8'), adminKey, 'no new admin key: it did not start as a new gateway');
  };

  await t.test('the newest write-ahead log emptied: refused, never started empty', async (t) => {
    await refused(t, scenario('log-emptied', logBase, (d) => truncateSync(newest(d, '.log'), 0)), /holds no data at all/);
  });
  await t.test('the newest write-ahead log garbled in the middle: refused (LevelDB alone would drop records silently)', async (t) => {
    // Inside a usage record's JSON from the middle of the log on: the case where LevelDB 1.20's own
    // repair (no checksums) brought the garbled record back and the start failed to decode it.
    const dir = scenario('log-garbled', logBase, (d) => garble(newest(d, '.log'), jsonRecordFromMiddle(newest(d, '.log'))));
    await refused(t, dir, /write-ahead log \d+\.log is damaged at byte \d+ \((checksum mismatch|bad record length \d+|unknown record type \d+)\)/);
    const repair = await runCli(['repair-store'], { WAYS_EDGE_DATA_DIR: dir, ...ENV }, dir);
    t.equal(repair.code, 0, `ways-edge repair-store: ${repair.stderr}`);
    t.match(repair.stdout, /copied the damaged database to .*db\.damaged-/, 'it keeps a copy of the damaged store');
    t.match(repair.stdout, /left out \d+ bytes of the write-ahead log \d+\.log from byte \d+ \(a damaged record/, 'it leaves the damaged record out, and says so');
    t.match(repair.stdout, /holds 3 devices, 1 API keys/, 'and reports what survived');
    t.ok(readdirSync(dir).some((n) => n.startsWith('db.damaged-')), 'the copy is there');
    const after = await attemptStart(dir);
    t.ok(after.started, `after the repair the gateway starts${after.started ? '' : `: ${after.stderr}`}`);
    t.match(after.logs.find((l) => l.event === 'ready'), { devices: 3 }, 'with its devices');
  });
  await t.test('the newest write-ahead log cut inside its last record (as a power cut leaves it): starts, says what was dropped', async (t) => {
    const dir = scenario('log-torn', logBase, (d) => { const f = newest(d, '.log'); truncateSync(f, statSync(f).size - 20); });
    const attempt = await attemptStart(dir);
    t.ok(attempt.started, 'it starts: an unfinished last write was never acknowledged (the group commit syncs first)');
    t.match(attempt.logs.find((l) => l.event === 'store_log_tail_dropped'), { level: 'warn', bytes: Number }, 'and logs the dropped tail');
    t.match(attempt.logs.find((l) => l.event === 'ready'), { devices: 3 });
  });
  await t.test('the newest table truncated: refused', async (t) => {
    await refused(t, scenario('table-truncated', tableBase, (d) => { const f = newest(d, '.ldb'); truncateSync(f, Math.floor(statSync(f).size / 2)); }), /table \d+\.ldb is truncated/);
  });
  await t.test('the newest table garbled: refused when the start reads it', async (t) => {
    await refused(t, scenario('table-garbled', tableBase, (d) => garble(newest(d, '.ldb'), 100, 400)), /Corruption/, 'on-read');
  });
  await t.test('MANIFEST garbled: refused', async (t) => {
    const manifestOf = (d: string): string => path.join(d, 'db', readdirSync(path.join(d, 'db')).find((n) => n.startsWith('MANIFEST-')) as string);
    await refused(t, scenario('manifest-garbled', tableBase, (d) => garble(manifestOf(d), 0, 8)), /MANIFEST-\d+ is damaged/);
  });
  await t.test('CURRENT missing: refused (LevelDB alone would start empty and delete the tables); repair-store brings the data back', async (t) => {
    const dir = scenario('current-missing', tableBase, (d) => unlinkSync(path.join(d, 'db', 'CURRENT')));
    await refused(t, dir, /CURRENT is missing/);
    const repair = await runCli(['repair-store'], { WAYS_EDGE_DATA_DIR: dir, ...ENV }, dir);
    t.equal(repair.code, 0, repair.stderr);
    t.match(repair.stdout, /holds 3 devices/);
    t.ok((await attemptStart(dir)).started, 'the gateway starts with its data');
  });
  await t.test('CURRENT naming a MANIFEST that is not there: refused', async (t) => {
    await refused(t, scenario('current-wrong', tableBase, (d) => writeFileSync(path.join(d, 'db', 'CURRENT'), 'MANIFEST-999999\n')), /CURRENT names MANIFEST-999999, which is missing/);
  });
  await t.test('a repair that leaves no gateway data says so and points to a backup', async (t) => {
    const dir = scenario('log-emptied-repair', logBase, (d) => truncateSync(newest(d, '.log'), 0));
    const repair = await runCli(['repair-store'], { WAYS_EDGE_DATA_DIR: dir, ...ENV }, dir);
    t.equal(repair.code, 1);
    t.match(repair.stderr, /still cannot be used.*Restore a backup/s);
    t.notOk((await attemptStart(dir)).started, 'and the gateway still refuses');
  });
});
