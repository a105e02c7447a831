/** A closed-loop HTTPS load on the REST API: `connections` requests in flight for a duration. */
import type { CommandOf, Results } from '../lib/protocol.js';

export async function rest(cmd: CommandOf<'rest'>): Promise<Results['rest']> {
  // Loaded here, not at start: most workers never speak HTTP.
  const { Agent, request } = await import('undici');
  const dispatcher = new Agent({ connect: { ca: cmd.ca, servername: 'localhost' }, connections: cmd.connections, pipelining: 1 });
  const headers = { authorization: `Bearer ${cmd.key}` };
  const lat: number[] = [];
  const statusCounts: Record<string, number> = {};
  let requests = 0;
  let errors = 0;
  let i = 0;
  const end = performance.now() + cmd.durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const path = cmd.paths[i++ % cmd.paths.length] as string;
      const t0 = performance.now();
      try {
        const res = await request(cmd.origin + path, { method: 'GET', headers, dispatcher });
        await res.body.text();
        statusCounts[res.statusCode] = (statusCounts[res.statusCode] ?? 0) + 1;
        if (res.statusCode !== 200) errors += 1;
      } catch {
        errors += 1;
      }
      lat.push(performance.now() - t0);
      requests += 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: cmd.connections }, loop));
  } finally {
    await dispatcher.close();
  }
  return { requests, errors, statusCounts, latenciesMs: lat };
}
