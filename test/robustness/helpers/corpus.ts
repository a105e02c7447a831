import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The mosquitto broker test corpus (../shared/conformance/mosquitto-broker-sequences/*.json, see its
 * README): read where it lies at test time, never copied into this repository. This module loads the
 * MQTT 3.1 / 3.1.1 sequences and turns a step's byte description into tokens and bytes.
 */

/** dist/test/robustness/helpers → the repository root is four levels up. */
const REPO_ROOT = path.resolve(import.meta.dirname, '../../../..');

/** Where the corpus is: WAYS_EDGE_CONFORMANCE_DIR, else ../shared/conformance/… next to the repository. */
export function corpusDir(): string {
  return process.env.WAYS_EDGE_CONFORMANCE_DIR ?? path.resolve(REPO_ROOT, '../shared/conformance/mosquitto-broker-sequences');
}

export interface CorpusStep {
  type: string;
  payload?: string;
  topic?: string;
  qos?: number;
  comment?: string;
}

export interface CorpusSequence {
  /** `FILE.json › group › name`, unique. */
  id: string;
  file: string;
  group: string;
  name: string;
  /** Protocol level: 3 (MQTT 3.1) or 4 (3.1.1). */
  ver: 3 | 4;
  /** Send a valid CONNECT first and expect it accepted. */
  connect: boolean;
  /** The broker must have closed the connection after the steps. */
  expectDisconnect: boolean;
  msgs: CorpusStep[];
}

export interface Corpus {
  sequences: CorpusSequence[];
  /** MQTT 5 groups and their sequence counts: ways-edge (aedes 1.x) does not speak MQTT 5. */
  skippedV5: { groups: number; sequences: number };
}

interface RawTest { name: string; ver?: number; connect?: boolean; expect_disconnect?: boolean; msgs: CorpusStep[] }
interface RawGroup { group: string; ver?: number; connect?: boolean; disable?: boolean; tests: RawTest[] }

/**
 * Every MQTT 3.1/3.1.1 sequence of the corpus. Defaults as mosquitto's runner (msg_sequence_test.py):
 * a test's `ver` (else its group's, else 4), `connect` (else its group's, else true),
 * `expect_disconnect` (else true). Version 5 groups are counted and left out.
 */
export function loadCorpus(dir = corpusDir()): Corpus {
  if (!existsSync(dir)) {
    throw new Error(`the mosquitto conformance corpus is not at ${dir}; set WAYS_EDGE_CONFORMANCE_DIR to its mosquitto-broker-sequences folder`);
  }
  const sequences: CorpusSequence[] = [];
  const skippedV5 = { groups: 0, sequences: 0 };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const groups = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as RawGroup[];
    for (const g of groups) {
      if (g.disable) continue;
      if (g.ver === 5) { skippedV5.groups += 1; skippedV5.sequences += g.tests.length; continue; }
      for (const test of g.tests) {
        const ver = test.ver ?? g.ver ?? 4;
        if (ver === 5) { skippedV5.sequences += 1; continue; }
        sequences.push({
          id: `${file} › ${g.group.replace(/\s+/g, ' ').trim()} › ${test.name.trim()}`,
          file, group: g.group, name: test.name,
          ver: ver === 3 ? 3 : 4,
          connect: test.connect ?? g.connect ?? true,
          expectDisconnect: test.expect_disconnect ?? true,
          msgs: test.msgs,
        });
      }
    }
  }
  return { sequences, skippedV5 };
}

/** One element of a step's byte description (README: hex, r/v, s/m/k/H, i, L, 'text'). */
export type Token =
  | { kind: 'hex'; bytes: Buffer }
  | { kind: 'varint'; n: number }
  | { kind: 'u16'; tag: string; n: number }
  | { kind: 'u8'; n: number }
  | { kind: 'u32'; n: number }
  | { kind: 'text'; text: string };

export function tokenize(description: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const s = description;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === ' ' || c === '\t') { i += 1; continue; }
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated text in ${description}`);
      tokens.push({ kind: 'text', text: s.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < s.length && s[j] !== ' ' && s[j] !== "'") j += 1;
    const word = s.slice(i, j);
    i = j;
    const tag = word[0] as string;
    const num = Number(word.slice(1));
    if ('rv'.includes(tag) && /^\d+$/.test(word.slice(1))) tokens.push({ kind: 'varint', n: num });
    else if ('smkH'.includes(tag) && /^\d+$/.test(word.slice(1))) tokens.push({ kind: 'u16', tag, n: num });
    else if (tag === 'i' && /^\d+$/.test(word.slice(1))) tokens.push({ kind: 'u8', n: num });
    else if (tag === 'L' && /^\d+$/.test(word.slice(1))) tokens.push({ kind: 'u32', n: num });
    else if (/^([0-9a-fA-F]{2})+$/.test(word)) tokens.push({ kind: 'hex', bytes: Buffer.from(word, 'hex') });
    else throw new Error(`unknown token "${word}" in ${description}`);
  }
  return tokens;
}

/** MQTT variable-length integer; values of 2^28 and more simply take more bytes (malformed on purpose). */
export function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return Buffer.from(out);
}

export function encode(tokens: readonly Token[]): Buffer {
  const parts: Buffer[] = [];
  for (const t of tokens) {
    switch (t.kind) {
      case 'hex': parts.push(t.bytes); break;
      case 'varint': parts.push(varint(t.n)); break;
      case 'u16': { const b = Buffer.alloc(2); b.writeUInt16BE(t.n & 0xffff); parts.push(b); break; }
      case 'u8': parts.push(Buffer.from([t.n & 0xff])); break;
      case 'u32': { const b = Buffer.alloc(4); b.writeUInt32BE(t.n >>> 0); parts.push(b); break; }
      case 'text': parts.push(Buffer.from(t.text, 'utf8')); break;
    }
  }
  return Buffer.concat(parts);
}

export function bytesOf(description: string): Buffer {
  return encode(tokenize(description));
}

/** The CONNECT flags byte of an encoded CONNECT packet, when it is long enough to have one. */
export function connectFlags(bytes: Buffer): number | undefined {
  let p = 1;
  // Past the fixed header's remaining-length varint, then the protocol name and level.
  while (p < bytes.length && ((bytes[p] as number) & 0x80) !== 0) p += 1;
  p += 1;
  if (p + 2 > bytes.length) return undefined;
  const at = p + 2 + bytes.readUInt16BE(p) + 1;
  return at < bytes.length ? bytes[at] : undefined;
}
