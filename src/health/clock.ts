import { access } from 'node:fs/promises';

const TIMESYNC_DIR = '/run/systemd/timesync';
/** systemd-timesyncd creates this file once it has synchronised the clock (systemd ≥ 239). */
const TIMESYNC_FLAG = `${TIMESYNC_DIR}/synchronized`;
/** A Pi has no RTC: before its first sync it runs at the last saved time, or 1970. Nothing built today runs before this. */
const EARLIEST_PLAUSIBLE = Date.UTC(2025, 0, 1);

/**
 * Whether the system clock is synchronised, as far as can be told without a process or a D-Bus call:
 *  - a clock before 2025 is not synchronised, whatever else is true;
 *  - systemd-timesyncd running (its runtime directory exists): synchronised iff its flag file exists;
 *  - otherwise (chrony, ntpd, no daemon, not Linux): null — the kernel knows (adjtimex), but Node has
 *    no binding for it, and spawning timedatectl every sample is not cheap.
 */
export async function clockSynchronized(now = Date.now(), dir = TIMESYNC_DIR, flag = TIMESYNC_FLAG): Promise<boolean | null> {
  if (now < EARLIEST_PLAUSIBLE) return false;
  if (!(await exists(dir))) return null;
  return exists(flag);
}

async function exists(file: string): Promise<boolean> {
  try { await access(file); return true; } catch { return false; }
}
