import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
  text: string;
}

export interface ApiClient {
  get<T = unknown>(path: string, opts?: RequestOpts): Promise<HttpResponse<T>>;
  post<T = unknown>(path: string, body?: unknown, opts?: RequestOpts): Promise<HttpResponse<T>>;
  put<T = unknown>(path: string, body?: unknown, opts?: RequestOpts): Promise<HttpResponse<T>>;
  patch<T = unknown>(path: string, body?: unknown, opts?: RequestOpts): Promise<HttpResponse<T>>;
  delete<T = unknown>(path: string, opts?: RequestOpts): Promise<HttpResponse<T>>;
  raw(method: string, path: string, opts: RequestOpts & { rawBody?: string | Buffer | Readable }): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface RequestOpts { key?: string | null; headers?: Record<string, string> }

/**
 * An HTTPS client for the gateway's API that trusts the gateway's CA (and nothing else) and sends the
 * given API key. Paths are relative to the base URL, e.g. '/v1/iot/devices'.
 */
export function apiClient(baseUrl: string, caPem: string, key: string | null): ApiClient {
  const dispatcher = new Agent({ connect: { ca: caPem, servername: 'localhost' }, pipelining: 0 });
  async function send(method: string, path: string, opts: RequestOpts & { body?: unknown; rawBody?: string | Buffer | Readable } = {}): Promise<HttpResponse> {
    const useKey = opts.key === undefined ? key : opts.key;
    const headers: Record<string, string> = { ...(useKey ? { authorization: `Bearer ${useKey}` } : {}), ...opts.headers };
    let body: string | Buffer | Readable | undefined = opts.rawBody;
    if (opts.body !== undefined) { body = JSON.stringify(opts.body); headers['content-type'] ??= 'application/json'; }
    const res = await request(baseUrl + path, { method: method as 'GET', headers, body, dispatcher });
    const text = await res.body.text();
    let parsed: unknown = undefined;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
    return { status: res.statusCode, headers: flat, body: parsed, text };
  }
  return {
    get: (p, o) => send('GET', p, o) as never,
    post: (p, b, o) => send('POST', p, { ...o, body: b }) as never,
    put: (p, b, o) => send('PUT', p, { ...o, body: b }) as never,
    patch: (p, b, o) => send('PATCH', p, { ...o, body: b }) as never,
    delete: (p, o) => send('DELETE', p, o) as never,
    raw: (m, p, o) => send(m, p, o),
    close: () => dispatcher.close(),
  };
}
