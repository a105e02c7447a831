/** How numbers, sizes and times read on the page. Absent values read "—", never 0 or "undefined". */
export const DASH = '—';

type Maybe = number | null | undefined;

const int = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const dec1 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const dec2 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

export function isNum(v: unknown): v is number { return typeof v === 'number' && Number.isFinite(v); }

export function fmtInt(v: Maybe): string { return isNum(v) ? int.format(v) : DASH; }

/** Rates: two decimals below 10/s, whole numbers above. */
export function fmtRate(v: Maybe): string {
  if (!isNum(v)) return DASH;
  return v >= 10 ? int.format(v) : dec2.format(v);
}

export function fmtPercent(v: Maybe): string { return isNum(v) ? `${dec1.format(v)} %` : DASH; }

export function fmtCelsius(v: Maybe): string { return isNum(v) ? `${dec1.format(v)} °C` : DASH; }

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];
/** Decimal units (10^3), as /quota counts gigabytes. */
export function fmtBytes(v: Maybe): string {
  if (!isNum(v)) return DASH;
  let n = v;
  let u = 0;
  while (Math.abs(n) >= 1000 && u < UNITS.length - 1) { n /= 1000; u += 1; }
  return `${u === 0 ? int.format(n) : dec1.format(n)} ${UNITS[u]}`;
}

/** 93784 → "1 d 2 h", 4000 → "1 h 6 min", 42 → "42 s". */
export function fmtDuration(seconds: Maybe): string {
  if (!isNum(seconds)) return DASH;
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  const hrs = Math.floor((s % 86400) / 3600);
  const min = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${hrs} h`;
  if (hrs > 0) return `${hrs} h ${min} min`;
  if (min > 0) return `${min} min ${s % 60} s`;
  return `${s} s`;
}

export function fmtDateTime(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? DASH : new Date(t).toLocaleString();
}

/** "12 s ago", "3 min ago", or the date for anything older than a day. */
export function fmtAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return DASH;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(t).toLocaleDateString();
}

/** Reads a nested field of an object of unknown shape: /stats parts may not exist yet. */
export function pick(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function num(obj: unknown, ...path: string[]): number | undefined {
  const v = pick(obj, ...path);
  return isNum(v) ? v : undefined;
}

export function str(obj: unknown, ...path: string[]): string | undefined {
  const v = pick(obj, ...path);
  return typeof v === 'string' ? v : undefined;
}
