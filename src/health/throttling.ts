import { access, constants } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { ThrottlingFlags } from './types.js';
import { readPseudoFile } from './pseudo-file.js';

/** The firmware driver's sysfs file (Raspberry Pi OS kernels): a read, no process. */
export const THROTTLED_SYSFS = '/sys/devices/platform/soc/soc:firmware/get_throttled';

/** Bits of the firmware's get_throttled word (Raspberry Pi documentation, "vcgencmd get_throttled"). */
const BITS = {
  under_voltage: 0,
  arm_freq_capped: 1,
  throttled: 2,
  soft_temp_limit: 3,
  under_voltage_occurred: 16,
  arm_freq_capped_occurred: 17,
  throttled_occurred: 18,
  soft_temp_limit_occurred: 19,
} as const;

/** Decodes the bit field, e.g. 0x50005 = under-voltage and throttled now, and both have occurred. */
export function decodeThrottled(value: number): ThrottlingFlags {
  const bit = (n: number): boolean => (value & (1 << n)) !== 0;
  return {
    raw: `0x${value.toString(16)}`,
    under_voltage: bit(BITS.under_voltage),
    arm_freq_capped: bit(BITS.arm_freq_capped),
    throttled: bit(BITS.throttled),
    soft_temp_limit: bit(BITS.soft_temp_limit),
    under_voltage_occurred: bit(BITS.under_voltage_occurred),
    arm_freq_capped_occurred: bit(BITS.arm_freq_capped_occurred),
    throttled_occurred: bit(BITS.throttled_occurred),
    soft_temp_limit_occurred: bit(BITS.soft_temp_limit_occurred),
  };
}

/** Parses "50005" (sysfs, hex without prefix) or "throttled=0x50005" (vcgencmd). */
export function parseThrottled(text: string): number | undefined {
  const match = /^(?:throttled=)?(?:0x)?([0-9a-f]+)$/i.exec(text.trim());
  if (!match) return undefined;
  const value = Number.parseInt(match[1] as string, 16);
  return Number.isFinite(value) ? value : undefined;
}

export type ThrottlingSource = { kind: 'sysfs'; file: string } | { kind: 'vcgencmd'; command: string } | { kind: 'none' };

/**
 * Where the flags come from on this host, decided once at start: the sysfs file when it exists,
 * else `vcgencmd` when it is on the PATH (older kernels), else nowhere — then the sample says null
 * rather than pretending all is well.
 */
export async function findThrottlingSource(sysfs = THROTTLED_SYSFS, pathEnv = process.env.PATH ?? ''): Promise<ThrottlingSource> {
  try {
    await access(sysfs, constants.R_OK);
    return { kind: 'sysfs', file: sysfs };
  } catch {
    // Not a Pi kernel with the firmware driver.
  }
  for (const dir of pathEnv.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, 'vcgencmd');
    try {
      await access(candidate, constants.X_OK);
      return { kind: 'vcgencmd', command: candidate };
    } catch {
      // Keep looking.
    }
  }
  return { kind: 'none' };
}

export async function readThrottling(source: ThrottlingSource): Promise<ThrottlingFlags | null> {
  let text: string;
  try {
    switch (source.kind) {
      case 'none': return null;
      case 'sysfs': text = readPseudoFile(source.file) ?? ''; break;
      case 'vcgencmd': text = await run(source.command, ['get_throttled']); break;
    }
  } catch {
    return null;
  }
  const value = parseThrottled(text);
  return value === undefined ? null : decodeThrottled(value);
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 2000, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}
