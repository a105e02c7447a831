/**
 * aedes-persistence's own conformance suite (abstract.js) against LevelPersistence.
 *
 * The suite is written for node:test (it calls `test(name, async t => …)` and uses `t.assert`,
 * `t.plan`, `t.diagnostic`), so this file uses node:test directly; tap runs it and reports its
 * results. package.json's tap config gives node `--test-reporter=tap`: since Node 23 node:test writes
 * its `spec` report even into a pipe, which tap cannot read, and it listed this file as SKIP with none
 * of its 50 tests counted (they still ran). Every instance gets a fresh sublevel of one on-disk LevelDB in a temp dir; the parent
 * sublevel has a JSON default value encoding, as the gateway's does, so the persistence's own
 * nested sublevels must set their encodings explicitly.
 */
import { after, test } from 'node:test';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Level } from 'level';
import { LevelPersistence } from '../../src/broker/persistence/level-persistence.js';

interface AbstractSuiteOptions {
  test: typeof test;
  persistence: () => unknown;
  /** The persistence implements the async (aedes 1.x) interface: setup(broker) is awaited. */
  testAsync: boolean;
}

// abstract.js is CommonJS without type declarations.
const require = createRequire(import.meta.url);
const abstractPersistence = require('aedes-persistence/abstract.js') as (opts: AbstractSuiteOptions) => void;

const dir = mkdtempSync(path.join(tmpdir(), 'wep-'));
const root = new Level<string, unknown>(dir, { valueEncoding: 'json' });
let instances = 0;

abstractPersistence({
  test,
  testAsync: true,
  persistence: () => {
    instances += 1;
    const db = root.sublevel<string, unknown>(`suite${instances}`, { valueEncoding: 'json' });
    // With the queue cap on, as the gateway runs it (the suite queues at most a few dozen per client).
    return new LevelPersistence({ db, maxQueuedPerClient: 1000 });
  },
});

after(async () => {
  await root.close();
  rmSync(dir, { recursive: true, force: true });
});
