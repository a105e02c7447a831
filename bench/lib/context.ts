import type { Report } from './report.js';
import type { Settings } from './settings.js';

export interface Ctx {
  settings: Settings;
  report: Report;
  log: (line: string) => void;
}

export function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }
