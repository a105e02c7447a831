import { Api, ApiError } from './api.js';
import type { Stats } from './types.js';

/**
 * The key lives in sessionStorage only: it survives a reload of this tab and is gone when the tab
 * closes or the user signs out. Never localStorage, never a cookie, never a URL.
 */
const STORAGE_KEY = 'ways-edge.api-key';
export const KEY_PATTERN = /^wayscloud_iot_prod_[0-9A-Za-z]{32,}$/;

export function savedKey(): string | null {
  try { return sessionStorage.getItem(STORAGE_KEY); } catch { return null; }
}

export function saveKey(key: string): void {
  try { sessionStorage.setItem(STORAGE_KEY, key); } catch { /* private mode: the session lasts until reload */ }
}

export function forgetKey(): void {
  try { sessionStorage.removeItem(STORAGE_KEY); } catch { /* nothing kept */ }
}

export interface Session { api: Api; admin: boolean; stats: Stats }

/**
 * Checks a key and learns what it may do: GET /stats needs `read`; GET /keys answers only an
 * `admin` key. The page hides actions a read key cannot take; the API refuses them anyway.
 */
export async function openSession(key: string): Promise<Session> {
  const api = new Api(key);
  const stats = await api.get<Stats>('/stats');
  let admin = false;
  try {
    await api.get('/keys');
    admin = true;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 403) throw err;
  }
  return { api, admin, stats };
}
