import t from 'tap';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Agent } from 'undici';
import { withGateway } from '../helpers/fixture.js';
import { tempDir, removeDir } from '../helpers/gateway.js';
import { DASHBOARD_CSP, DASHBOARD_DIR, loadDashboard } from '../../src/api/routes/dashboard.js';

/** Raw GETs (no JSON parsing, no automatic decompression) so headers and bytes are seen as sent. */
async function raw(baseUrl: string, caPem: string, urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const dispatcher = new Agent({ connect: { ca: caPem, servername: 'localhost' } });
  try {
    // dispatcher.request sends the path exactly as written (a URL object would resolve "..").
    const res = await dispatcher.request({ origin: baseUrl, path: urlPath, method: 'GET', headers });
    const body = Buffer.from(await res.body.arrayBuffer());
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
    return { status: res.statusCode, headers: flat, body };
  } finally {
    await dispatcher.close();
  }
}

t.test('the build produced the dashboard (npm run build runs scripts/build-web.mjs)', async (t) => {
  t.ok(existsSync(path.join(DASHBOARD_DIR, 'index.html')), `${DASHBOARD_DIR}/index.html exists`);
});

t.test('the page: strict CSP, revalidated caching, no inline code; assets: hashed, immutable, gzip', async (t) => {
  const { gw } = await withGateway(t);
  const page = await raw(gw.baseUrl, gw.caPem, '/');
  t.equal(page.status, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.equal(page.headers['content-security-policy'], DASHBOARD_CSP);
  t.equal(page.headers['content-security-policy'], "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  t.equal(page.headers['cache-control'], 'no-cache');
  t.equal(page.headers['x-frame-options'], 'DENY');
  t.equal(page.headers['x-content-type-options'], 'nosniff');
  t.ok(page.headers.etag, 'an ETag to revalidate with');
  const html = page.body.toString();
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'no inline script');
  t.notMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handler');

  const again = await raw(gw.baseUrl, gw.caPem, '/', { 'if-none-match': page.headers.etag as string });
  t.equal(again.status, 304, 'unchanged page: 304');

  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
  t.equal(assets.length, 3, `script, styles and icon: ${assets.join(', ')}`);
  let gzipTotal = (await raw(gw.baseUrl, gw.caPem, '/', { 'accept-encoding': 'gzip' })).body.length;
  for (const asset of assets) {
    t.match(asset, /^\/assets\/[a-z]+-[A-Za-z0-9]{8}\.(js|css|svg)$/, `${asset} is content-hashed`);
    const plain = await raw(gw.baseUrl, gw.caPem, asset);
    t.equal(plain.status, 200, asset);
    t.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    t.match(plain.headers.vary, /Accept-Encoding/);
    const zipped = await raw(gw.baseUrl, gw.caPem, asset, { 'accept-encoding': 'gzip, deflate, br' });
    t.equal(zipped.headers['content-encoding'], 'gzip');
    t.same(gunzipSync(zipped.body), plain.body, `${asset} gzip decodes to the file`);
    gzipTotal += zipped.body.length;
  }
  t.ok(gzipTotal < 150 * 1024, `the whole page is ${gzipTotal} bytes gzipped (budget 150 KB)`);
});

t.test('only the built files are served: no traversal, no source maps, no .gz paths, no API key needed', async (t) => {
  const { gw } = await withGateway(t);
  const tries = [
    '/assets/../../package.json', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e%2f%2e%2e%2fsrc%2fmain.js', '/assets/..%5c..%5cpackage.json',
    '/assets/../index.html', '/index.html.gz', '/assets/', '/assets/%00', '/web/index.html', '/dist/web/index.html', '/../package.json',
    '/assets/app.js', '//etc/passwd', '/assets/..%252f..%252fpackage.json',
  ];
  const html = (await raw(gw.baseUrl, gw.caPem, '/')).body.toString();
  const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] as string;
  tries.push(`${js}.gz`, `${js}.map`, `${js}/`, js.toUpperCase());
  for (const p of tries) {
    const res = await raw(gw.baseUrl, gw.caPem, p);
    t.ok(res.status === 404 || res.status === 400, `${p} → ${res.status}`);
    t.notMatch(res.body.toString(), /"name": "ways-edge"|root:x:0/, `${p} leaks nothing`);
  }
});

t.test('loadDashboard reads a whitelist once: dotfiles and unknown types are left out; no folder, no page', async (t) => {
  const dir = tempDir('ways-edge-web-');
  t.teardown(() => removeDir(dir));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(path.join(dir, 'index.html.gz'), Buffer.from([0x1f, 0x8b]));
  writeFileSync(path.join(dir, 'assets', 'app-ABCDEFGH.js'), 'export {}');
  writeFileSync(path.join(dir, 'assets', '.secret.js'), 'no');
  writeFileSync(path.join(dir, 'assets', 'notes.md'), 'no');
  symlinkSync('/etc/hostname', path.join(dir, 'assets', 'link.bin'));
  const files = await loadDashboard(dir);
  t.same([...files.keys()].sort(), ['/assets/app-ABCDEFGH.js', '/index.html']);
  t.ok(files.get('/index.html')?.gzip, 'the precompressed copy is paired with its file');
  t.equal(files.get('/assets/app-ABCDEFGH.js')?.cacheControl, 'public, max-age=31536000, immutable');
  t.equal((await loadDashboard(path.join(dir, 'missing'))).size, 0);
  t.equal(readFileSync(path.join(dir, 'index.html'), 'utf8'), '<!doctype html><title>x</title>');
});
