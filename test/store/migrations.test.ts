import t from 'tap';
import { Writable } from 'node:stream';
import { Store } from '../../src/store/store.js';
import { FORMAT_VERSION } from '../../src/store/layout.js';
import { MIGRATIONS, checkMigrations, targetFormat, type Migration } from '../../src/store/migrations.js';
import { createLogger } from '../../src/log.js';
import { isGatewayError } from '../../src/errors.js';
import { tempDir, removeDir } from '../helpers/gateway.js';
import { runCli } from '../helpers/spawn.js';

/** Opens the store in `dir`, lets `fn` use it, and closes it. */
async function withStore<T>(dir: string, opts: ConstructorParameters<typeof Store>[1], fn: (store: Store) => Promise<T>): Promise<T> {
  const store = new Store(dir, opts);
  await store.start();
  try { return await fn(store); } finally { await store.stop(); }
}

const formatOf = (store: Store): Promise<unknown> => store.json<unknown>('meta').get('format_version');

t.test('the release\'s migration list is ordered, and FORMAT_VERSION is where it leads', async (t) => {
  t.doesNotThrow(() => checkMigrations(MIGRATIONS));
  t.equal(FORMAT_VERSION, targetFormat(MIGRATIONS));
  t.equal(targetFormat([]), 1, 'format 1 needs no migration');
  const noop = async (): Promise<void> => undefined;
  t.throws(() => checkMigrations([{ to: 3, description: 'skips 2', up: noop }]), /goes to format 3; expected 2/);
  t.throws(() => checkMigrations([{ to: 2, description: 'a', up: noop }, { to: 2, description: 'b', up: noop }]), /expected 3/);
});

t.test('a new store is written in the newest format', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  await withStore(dir, {}, async (store) => t.equal(await formatOf(store), FORMAT_VERSION));
});

t.test('an older store is migrated step by step, once', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  // Format 1: devices carry `kind`; a later release calls it `type` (step 2) and adds `site` (step 3).
  await withStore(dir, { migrations: [] }, async (store) => {
    await store.json<unknown>('devices').put('iot_dev_a', { name: 'A', kind: 'sensor' });
  });

  const ran: number[] = [];
  const steps: Migration[] = [
    {
      to: 2, description: 'devices: kind → type',
      async up(db) {
        ran.push(2);
        const devices = db.sublevel<string, Record<string, unknown>>('dev', { valueEncoding: 'json' });
        for await (const [id, { kind, ...rest }] of devices.iterator()) await devices.put(id, { ...rest, type: kind });
      },
    },
    {
      to: 3, description: 'devices: site',
      async up(db) {
        ran.push(3);
        const devices = db.sublevel<string, Record<string, unknown>>('dev', { valueEncoding: 'json' });
        for await (const [id, device] of devices.iterator()) await devices.put(id, { ...device, site: 'main' });
      },
    },
  ];
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('info', new Writable({ write(chunk: Buffer, _e, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } }));
  await withStore(dir, { migrations: steps, log }, async (store) => {
    t.equal(await formatOf(store), 3, 'now format 3');
    t.same(await store.json<unknown>('devices').get('iot_dev_a'), { name: 'A', type: 'sensor', site: 'main' }, 'the data went through both steps');
  });
  t.same(ran, [2, 3], 'in order');
  t.same(lines.filter((l) => l.event === 'store_migrated').map((l) => [l.from, l.to]), [[1, 2], [2, 3]], 'each step is logged');
  await withStore(dir, { migrations: steps }, async () => undefined);
  t.same(ran, [2, 3], 'and not run again on the next start');
});

t.test('a failed step stops the start, keeps the format of the last finished step, and runs again next time', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  await withStore(dir, { migrations: [] }, async () => undefined);
  let fail = true;
  const steps: Migration[] = [
    { to: 2, description: 'fine', up: async () => undefined },
    { to: 3, description: 'fails once', up: async () => { if (fail) throw new Error('disk hiccup'); } },
  ];
  await t.rejects(withStore(dir, { migrations: steps }, async () => undefined), /disk hiccup/);
  await withStore(dir, { migrations: [steps[0] as Migration] }, async (store) => t.equal(await formatOf(store), 2, 'format 2 was recorded; the store is not locked'));
  fail = false;
  await withStore(dir, { migrations: steps }, async (store) => t.equal(await formatOf(store), 3, 'the failed step ran again and finished'));
});

t.test('a store of a newer format is refused untouched, with a clear message', async (t) => {
  const dir = tempDir();
  t.teardown(() => removeDir(dir));
  await withStore(dir, {}, async (store) => { await store.json<number>('meta').put('format_version', FORMAT_VERSION + 1); });
  const err: unknown = await new Store(dir).start().then(() => undefined, (e: unknown) => e);
  t.ok(isGatewayError(err), 'a GatewayError');
  t.match((err as Error).message, new RegExp(`is format ${FORMAT_VERSION + 1}, newer than this release understands \\(${FORMAT_VERSION}\\)`));
  await withStore(dir, { migrate: false }, async (store) => t.equal(await formatOf(store), FORMAT_VERSION + 1, 'still the newer format, and the lock was released'));

  const res = await runCli(['start'], { WAYS_EDGE_DATA_DIR: dir, WAYS_EDGE_API_PORT: '0', WAYS_EDGE_MQTT_PORT: '0', WAYS_EDGE_CLOUD_URL: '', WAYS_EDGE_DISCOVERY_ENABLED: 'false' }, dir);
  t.equal(res.code, 1, 'ways-edge start exits non-zero');
  t.match(res.stderr, /newer than this release understands.*run the newer release/);
  t.notMatch(res.stderr, /\n\s+at /, 'no stack trace');
});
