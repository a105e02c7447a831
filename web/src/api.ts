/**
 * The page's only way to the gateway: the REST API under /v1/iot with the key as a Bearer header.
 * Nothing is cached by the browser (the API answers no-store anyway).
 */
export const API_BASE = '/v1/iot';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export class Api {
  /** Called once when the key stops working (revoked while the page was open). */
  onUnauthorized: (() => void) | undefined;

  constructor(private readonly key: string) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { Authorization: `Bearer ${this.key}`, ...extra };
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> { return this.request<T>('GET', path, undefined, signal); }
  post<T>(path: string, body?: unknown): Promise<T> { return this.request<T>('POST', path, body); }
  patch<T>(path: string, body: unknown): Promise<T> { return this.request<T>('PATCH', path, body); }
  delete(path: string): Promise<void> { return this.request<void>('DELETE', path); }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const init: RequestInit = {
      method,
      headers: this.headers(body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' }),
      cache: 'no-store',
      credentials: 'omit',
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    if (signal) init.signal = signal;
    const res = await fetch(API_BASE + path, init);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let parsed: unknown;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      if (res.status === 401) this.onUnauthorized?.();
      throw new ApiError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? `${method} ${path} failed with HTTP ${res.status}`);
    }
    return parsed as T;
  }
}

/** The message to show for a failed call. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.name === 'AbortError' ? 'cancelled' : `the gateway could not be reached (${err.message})`;
  return String(err);
}
