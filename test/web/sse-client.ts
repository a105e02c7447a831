import { Agent, request } from 'undici';

export interface SseMessage { event: string; data: unknown }

export interface SseStream {
  status: number;
  headers: Record<string, string>;
  /** Every event so far, in order. */
  events: SseMessage[];
  /** Comment lines (heartbeats) so far. */
  comments: number;
  /** The first event named `event` (after those already taken by earlier calls) that matches. */
  next(event: string, match?: (data: never) => boolean, timeoutMs?: number): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Opens GET /v1/iot/events the way the dashboard does: a plain HTTPS request with a Bearer header
 * whose body is read as it arrives. Frames are split on blank lines (the gateway writes LF only).
 */
export async function openEvents(baseUrl: string, caPem: string, key: string | null, query = ''): Promise<SseStream> {
  const dispatcher = new Agent({ connect: { ca: caPem, servername: 'localhost' }, pipelining: 0 });
  const res = await request(`${baseUrl}/v1/iot/events${query}`, { headers: key ? { authorization: `Bearer ${key}` } : {}, dispatcher });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const events: SseMessage[] = [];
  const taken = new Set<number>();
  const waiters: Array<() => void> = [];
  let comments = 0;
  let buffer = '';
  let ended = false;
  const stream: SseStream = {
    status: res.statusCode,
    headers,
    events,
    get comments() { return comments; },
    next(event, match = () => true, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const look = (): boolean => {
          const i = events.findIndex((e, k) => !taken.has(k) && e.event === event && match(e.data as never));
          if (i === -1) return false;
          taken.add(i);
          resolve(events[i]?.data);
          return true;
        };
        if (look()) return;
        const timer = setTimeout(() => { waiters.splice(waiters.indexOf(check), 1); reject(new Error(`no "${event}" event within ${timeoutMs} ms; got ${events.map((e) => e.event).join(', ')}`)); }, timeoutMs);
        const check = (): void => {
          if (look()) { clearTimeout(timer); waiters.splice(waiters.indexOf(check), 1); }
          else if (ended) { clearTimeout(timer); waiters.splice(waiters.indexOf(check), 1); reject(new Error(`stream ended before a "${event}" event`)); }
        };
        waiters.push(check);
      });
    },
    async close() {
      res.body.destroy();
      await dispatcher.destroy();
    },
  };
  if (res.statusCode !== 200) {
    const text = await res.body.text();
    events.push({ event: 'error-body', data: text ? JSON.parse(text) as unknown : null });
    await dispatcher.close();
    return stream;
  }
  res.body.setEncoding('utf8');
  res.body.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) comments += 1;
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) events.push({ event, data: JSON.parse(data.join('\n')) as unknown });
    }
    for (const w of [...waiters]) w();
  });
  const finish = (): void => { ended = true; for (const w of [...waiters]) w(); };
  res.body.on('end', finish);
  res.body.on('close', finish);
  res.body.on('error', () => undefined);
  return stream;
}
