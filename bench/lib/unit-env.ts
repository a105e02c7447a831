/**
 * The process environment of the shipped systemd unit (systemd/ways-edge.service), so that the
 * bench's gateways run as the unit runs them: its `Environment=` settings that shape the process
 * (malloc tuning, NODE_OPTIONS with V8 flags, NODE_ENV) are read from the unit file rather than
 * repeated here. `WAYS_EDGE_*` settings (the unit's config and data paths) are left out: the bench
 * sets its own.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** systemd/ways-edge.service, from dist/bench/lib. */
export const UNIT_FILE = path.resolve(import.meta.dirname, '../../../systemd/ways-edge.service');

/**
 * The `Environment=` assignments of a unit file, in order (a later one of a name wins), as systemd
 * reads them: several space-separated `NAME=value` words per line, a word in double quotes may
 * hold spaces. Specifiers (%h …) and `\` escapes are not expanded (the unit uses none).
 */
export function parseUnitEnvironment(unit: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of unit.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('Environment=')) continue;
    const words = line.slice('Environment='.length).match(/"[^"]*"|[^\s"]+/g) ?? [];
    for (const word of words) {
      const assignment = word.startsWith('"') ? word.slice(1, -1) : word;
      const eq = assignment.indexOf('=');
      if (eq > 0) env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
    }
  }
  return env;
}

/** The unit's process settings (not WAYS_EDGE_*), for every gateway the bench starts. */
export function unitProcessEnvironment(unitFile = UNIT_FILE): Record<string, string> {
  const all = parseUnitEnvironment(readFileSync(unitFile, 'utf8'));
  return Object.fromEntries(Object.entries(all).filter(([name]) => !name.startsWith('WAYS_EDGE_')));
}
