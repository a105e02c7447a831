/**
 * Whether `bytes` are one JSON text (RFC 8259) — the grammar JSON.parse accepts — checked on the bytes
 * without building the value. The batcher asks this for every device message it embeds in a batch;
 * JSON.parse answered it by allocating an object per message only to throw it away (its parse and
 * the garbage were ~10% of the gateway's CPU at QoS 0, bench/scenarios/profile.ts). The caller checks
 * UTF-8 validity separately (isUtf8); bytes ≥ 0x80 are accepted here only inside strings.
 * test/uplink/json-check.test.ts holds it to JSON.parse's verdicts.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Nesting deeper than this is refused (JSON.parse itself gives up at some depth; a sensor never nests this deep). */
const MAX_DEPTH = 512;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function skipWhitespace(b: Uint8Array, i: number): number {
  while (i < b.length && isWhitespace(b[i] as number)) i++;
  return i;
}

/** End of the string that opens at `i` (a quote), or -1. */
function stringEnd(b: Uint8Array, i: number): number {
  i++;
  while (i < b.length) {
    const c = b[i] as number;
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      const e = b[i + 1];
      if (e === 0x75) { // \uXXXX
        if (!(isHex(b[i + 2] ?? 0) && isHex(b[i + 3] ?? 0) && isHex(b[i + 4] ?? 0) && isHex(b[i + 5] ?? 0))) return -1;
        i += 6;
        continue;
      }
      // " \ / b f n r t
      if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1;
      i += 2;
      continue;
    }
    i++;
  }
  return -1;
}

/** End of the number that starts at `i`, or -1: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
function numberEnd(b: Uint8Array, i: number): number {
  if (b[i] === MINUS) i++;
  if (b[i] === ZERO) i++;
  else if (isDigit(b[i] ?? 0)) { while (isDigit(b[i] ?? 0)) i++; }
  else return -1;
  if (b[i] === DOT) {
    i++;
    if (!isDigit(b[i] ?? 0)) return -1;
    while (isDigit(b[i] ?? 0)) i++;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === PLUS || b[i] === MINUS) i++;
    if (!isDigit(b[i] ?? 0)) return -1;
    while (isDigit(b[i] ?? 0)) i++;
  }
  return i;
}

function literalEnd(b: Uint8Array, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

/** End of the scalar (string, number, literal) at `i`, or -1 when there is none. */
function scalarEnd(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === QUOTE) return stringEnd(b, i);
  if (c === MINUS || isDigit(c ?? 0)) return numberEnd(b, i);
  if (c === 0x74) return literalEnd(b, i, 'true');
  if (c === 0x66) return literalEnd(b, i, 'false');
  if (c === 0x6e) return literalEnd(b, i, 'null');
  return -1;
}

/** Past an object member's `"name" :` that starts at `i`: where its value starts, or -1. */
function memberValueStart(b: Uint8Array, i: number): number {
  if (b[i] !== QUOTE) return -1;
  i = stringEnd(b, i);
  if (i < 0) return -1;
  i = skipWhitespace(b, i);
  if (b[i] !== COLON) return -1;
  return skipWhitespace(b, i + 1);
}

/**
 * Open containers, innermost last: 1 = object, 0 = array; `depth` of them are open. A fixed array
 * reused by every check (it runs per message): an Array emptied with `length = 0` drops its backing
 * store, and the next push allocated a new one for every message.
 */
const stack = new Uint8Array(MAX_DEPTH);

export function isJsonText(b: Uint8Array): boolean {
  let depth = 0;
  let i = skipWhitespace(b, 0);
  // Expecting a value at i (after the start, a ':', a ',' in an array, or an opening bracket).
  for (;;) {
    const c = b[i];
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth >= MAX_DEPTH) return false;
      const object = c === OPEN_BRACE;
      i = skipWhitespace(b, i + 1);
      if (b[i] === (object ? CLOSE_BRACE : CLOSE_BRACKET)) {
        i++; // empty container: a complete value
      } else {
        stack[depth++] = object ? 1 : 0;
        if (object) {
          i = memberValueStart(b, i);
          if (i < 0) return false;
        }
        continue;
      }
    } else {
      i = scalarEnd(b, i);
      if (i < 0) return false;
    }
    // A value ended at i: close containers, or move on to the next member or element.
    for (;;) {
      i = skipWhitespace(b, i);
      if (depth === 0) return i === b.length;
      const object = stack[depth - 1] === 1;
      const d = b[i];
      if (d === (object ? CLOSE_BRACE : CLOSE_BRACKET)) { depth--; i++; continue; }
      if (d !== COMMA) return false;
      i = skipWhitespace(b, i + 1);
      if (object) {
        i = memberValueStart(b, i);
        if (i < 0) return false;
      }
      break;
    }
  }
}
