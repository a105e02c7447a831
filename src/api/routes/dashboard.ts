import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Router } from '@koa/router';
import type { ApiState, ApiContext } from '../context.js';
import { GatewayError } from '../../errors.js';

/** Where `npm run build` puts the dashboard (scripts/build-web.mjs): dist/web, beside dist/src. */
export const DASHBOARD_DIR = path.resolve(import.meta.dirname, '../../../web');

/**
 * The page may load its own script, styles and images and talk to its own origin, nothing else: no
 * inline script or style (the build emits none), no framing, no <base>, no form posts.
 */
export const DASHBOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** File names carry a content hash, so a cached copy can never be stale. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current hashed files: revalidate it every time (a 304 when unchanged). */
const REVALIDATE = 'no-cache';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

interface DashboardFile {
  body: Buffer;
  /** Precompressed by the build (`<name>.gz`), so the Pi never compresses at run time. */
  gzip: Buffer | undefined;
  type: string;
  etag: string;
  cacheControl: string;
}

/** The whitelist: URL path → file, read once at start. Requests for anything else are a 404. */
export type DashboardFiles = ReadonlyMap<string, DashboardFile>;

/**
 * Reads every servable file under `dir` into memory (the whole page is ~100 KB). Only these exact
 * URL paths are ever answered, so no request path reaches the filesystem and `..` cannot escape.
 * A missing directory (built with tsc only) gives an empty map: the API runs, the page is a 404.
 */
export async function loadDashboard(dir: string = DASHBOARD_DIR): Promise<DashboardFiles> {
  const files = new Map<string, DashboardFile>();
  let names: string[];
  try {
    names = (await readdir(dir, { recursive: true })).map((n) => n.split(path.sep).join('/'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return files;
    throw err;
  }
  const present = new Set(names);
  for (const name of names) {
    const type = TYPES[path.posix.extname(name)];
    if (type === undefined || name.split('/').some((part) => part.startsWith('.'))) continue;
    const body = await readFile(path.join(dir, name));
    const gzip = present.has(`${name}.gz`) ? await readFile(path.join(dir, `${name}.gz`)) : undefined;
    files.set(`/${name}`, {
      body,
      gzip,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      cacheControl: name.startsWith('assets/') ? IMMUTABLE : REVALIDATE,
    });
  }
  return files;
}

/** GET / (the page) and GET /assets/{file} (its hashed script, styles and icon), without an API key. */
export function dashboardRouter(files: DashboardFiles): Router<ApiState> {
  const router = new Router<ApiState>();
  router.get('/', (ctx) => send(ctx, files.get('/index.html'), '/'));
  // Looked up by the raw path, exactly: no decoding, no trailing slash, no case folding.
  router.get('/assets/:file', (ctx) => send(ctx, files.get(ctx.path), ctx.path));
  return router;
}

function send(ctx: ApiContext, file: DashboardFile | undefined, what: string): void {
  if (!file) {
    throw new GatewayError('not_found', what === '/' ? 'the dashboard is not built: `npm run build` builds it into dist/web' : `no dashboard file ${what}`);
  }
  ctx.set('Cache-Control', file.cacheControl);
  ctx.set('ETag', file.etag);
  ctx.vary('Accept-Encoding');
  if (file.type.startsWith('text/html')) ctx.set('Content-Security-Policy', DASHBOARD_CSP);
  ctx.type = file.type;
  // koa judges freshness only for a 2xx status, so set it first.
  ctx.status = 200;
  if (ctx.fresh) { ctx.status = 304; return; }
  if (file.gzip && ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
    ctx.set('Content-Encoding', 'gzip');
    ctx.body = file.gzip;
  } else {
    ctx.body = file.body;
  }
}
