import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { readPseudoFile } from './pseudo-file.js';

const THERMAL_ROOT = '/sys/class/thermal';

/**
 * The CPU temperature from the kernel's thermal zones — the same files si.cpuTemperature() reads, but
 * without the shell pipelines it spawns (execSync of `cat`, then a hwmon loop), which cost several
 * milliseconds of CPU per call on a Pi. The zone is found once; each sample is one small read.
 */
export async function findCpuThermalZone(root = THERMAL_ROOT): Promise<string | null> {
  let zones: string[];
  try {
    zones = (await readdir(root)).filter((z) => z.startsWith('thermal_zone')).sort();
  } catch {
    return null;
  }
  const typed: Array<{ file: string; type: string }> = [];
  for (const zone of zones) {
    try {
      const type = (await readFile(path.join(root, zone, 'type'), 'utf8')).trim().toLowerCase();
      typed.push({ file: path.join(root, zone, 'temp'), type });
    } catch {
      // A zone without a readable type is not one we can name.
    }
  }
  // Raspberry Pi: "cpu-thermal"; x86: "x86_pkg_temp"; many ARM boards: "soc-thermal".
  const preferred = typed.find((z) => z.type.includes('cpu')) ?? typed.find((z) => z.type === 'x86_pkg_temp') ?? typed.find((z) => z.type.includes('soc'));
  return preferred?.file ?? null;
}

/** Degrees Celsius, one decimal, or null when the zone cannot be read. */
export function readTemperature(file: string | null): number | null {
  const text = file ? readPseudoFile(file) : null;
  if (text === null) return null;
  const milli = Number.parseInt(text, 10);
  return Number.isFinite(milli) ? Math.round(milli / 100) / 10 : null;
}
