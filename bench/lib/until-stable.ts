/**
 * Polls `read` every 100 ms until its value has not changed for `quietMs` (or `maxMs` has passed);
 * returns the last value. How the bench waits for deliveries, or the uplink, to settle after a window.
 */
export async function untilStable(read: () => Promise<number>, quietMs: number, maxMs: number): Promise<number> {
  const deadline = performance.now() + maxMs;
  let last = await read();
  let stableSince = performance.now();
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await read();
    if (now !== last) { last = now; stableSince = performance.now(); } else if (performance.now() - stableSince >= quietMs) break;
  }
  return last;
}
