import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as (opts?: unknown) => void;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Full garbage collections, twice, each in a turn of its own: weak references and finalizers settle in
 * between, and a WeakRef made in the calling turn no longer keeps its target alive.
 */
export async function collectGarbage(): Promise<void> {
  await nextTurn();
  collect();
  await nextTurn();
  collect();
}

/** heapUsed after full garbage collections. */
export async function heapAfterGc(): Promise<number> {
  await collectGarbage();
  return process.memoryUsage().heapUsed;
}
