import { Router } from '@koa/router';
import type { ApiState } from '../context.js';
import { openApiDocument } from '../openapi/document.js';
import { VERSION } from '../../version.js';

export function openApiRouter(): Router<ApiState> {
  const router = new Router<ApiState>();
  const doc = openApiDocument(VERSION);
  router.get('/openapi.json', (ctx) => { ctx.body = doc; });
  return router;
}
