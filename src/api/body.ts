import coBody from 'co-body';
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
  try {
    return await coBody.json(ctx.req, { limit: limitBytes, strict: true });
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') throw new GatewayError('payload_too_large', `request body is larger than the limit of ${limitBytes} bytes`);
    if (type === 'entity.parse.failed' || err instanceof SyntaxError) throw new GatewayError('invalid_json', `request body is not valid JSON: ${(err as Error).message}`);
    throw err;
  }
}
