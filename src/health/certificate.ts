import type { CertificateStatus } from './types.js';

const DAY_MS = 86_400_000;

/** Where the server certificate stands relative to the warning window (health.cert_warn_days). */
export function certificateStatus(notAfter: Date, warnDays: number, now = Date.now()): CertificateStatus {
  const leftMs = notAfter.getTime() - now;
  const state = leftMs <= 0 ? 'expired' : leftMs <= warnDays * DAY_MS ? 'expiring' : 'ok';
  return {
    not_after: notAfter.toISOString(),
    expires_in_days: Math.floor(leftMs / DAY_MS),
    expires_in_seconds: Math.round(leftMs / 1000),
    state,
  };
}
