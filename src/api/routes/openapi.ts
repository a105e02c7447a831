import { Router } from '@koa/router';
import type { ApiState } from '../context.js';
import { VERSION } from '../../version.js';

export function openApiRouter(): Router<ApiState> {
  const router = new Router<ApiState>();
  // Built on the first request: most gateways are never asked for it, and the document and its
  // schemas would otherwise sit in the heap from the start.
  let doc: Promise<unknown> | undefined;
  router.get('/openapi.json', async (ctx) => {
    doc ??= import('../openapi/document.js').then(({ openApiDocument }) => openApiDocument(VERSION));
    ctx.body = await doc;
  });
  return router;
}
