import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as (opts?: unknown) => void;

/** heapUsed after full garbage collections (twice: weak references and finalizers settle in between). */
export async function heapAfterGc(): Promise<number> {
  collect();
  await new Promise((resolve) => setImmediate(resolve));
  collect();
  return process.memoryUsage().heapUsed;
}
