// The JSON reader alone: the package's index also loads its form reader and qs (co-body-json.d.ts).
import readJsonBody from 'co-body/lib/json.js';
import { GatewayError } from '../errors.js';
import type { ApiContext } from './context.js';

/** Reads a JSON request body with the size limit; clear errors for a wrong type, bad JSON or size. */
export async function readJson(ctx: ApiContext, limitBytes: number): Promise<unknown> {
  if (!ctx.is('application/json')) {
    throw new GatewayError('unsupported_media_type', 'request body must be JSON with Content-Type: application/json');
  }
  const declared = Number(ctx.get('Content-Length'));
  if (Number.isFinite(declared) && declared > limitBytes) {
    throw new GatewayError('payload_too_large', `request body is ${declared} bytes; the limit is ${limitBytes}`);
  }
  let body: unknown;
  try {
    body = await readJsonBody(ctx.req, { limit: limitBytes, strict: true });
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') throw new GatewayError('payload_too_large', `request body is larger than the limit of ${limitBytes} bytes`);
    if (type === 'entity.parse.failed' || err instanceof SyntaxError) throw new GatewayError('invalid_json', `request body is not valid JSON: ${(err as Error).message}`);
    throw err;
  }
  if (nestedDeeperThan(body, MAX_DEPTH)) throw new GatewayError('invalid_json', `request body is nested deeper than ${MAX_DEPTH} levels`);
  return body;
}

/**
 * JSON.parse takes any nesting, but what handles the document afterwards (JSON.stringify, the MQTT
 * payload, structured clones) recurses and overflows the stack at a few thousand levels: a 500 for a
 * request that should be a 400. No document of this API needs more than a few levels.
 */
const MAX_DEPTH = 64;

/** Iterative, so that checking a deep document cannot overflow the stack itself. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}
