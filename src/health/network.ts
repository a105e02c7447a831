import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPseudoFile } from './pseudo-file.js';

const NET_ROOT = '/sys/class/net';

/**
 * Which network interfaces are up, from /sys/class/net/<if>/operstate — a handful of tiny reads,
 * where si.networkInterfaces() spawns several processes per call. Loopback is left out. Off Linux,
 * an interface with a non-internal address counts as up.
 */
export function interfaceStates(root = NET_ROOT): { up: string[]; down: string[] } {
  let names: string[];
  try {
    // Synchronous like the reads below: sysfs is kernel memory (see pseudo-file.ts).
    names = readdirSync(root).filter((n) => n !== 'lo').sort();
  } catch {
    const up = Object.entries(os.networkInterfaces()).filter(([, addrs]) => (addrs ?? []).some((a) => !a.internal)).map(([name]) => name).sort();
    return { up, down: [] };
  }
  const up: string[] = [];
  const down: string[] = [];
  for (const name of names) {
    // An interface that vanished meanwhile reads as null and counts as down.
    const state = readPseudoFile(path.join(root, name, 'operstate'))?.trim() ?? 'gone';
    // "unknown" is what many virtual and tunnel interfaces report while they carry traffic.
    (state === 'up' || state === 'unknown' ? up : down).push(name);
  }
  return { up, down };
}
