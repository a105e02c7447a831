#!/usr/bin/env node
// Builds the LAN dashboard into dist/web (served by src/api/routes/dashboard.ts):
//   1. type-checks web/ (strict, DOM lib) with tsc — esbuild only strips types;
//   2. bundles web/src/main.ts and its CSS with esbuild into content-hashed files under assets/;
//   3. writes index.html naming those files, and a .gz of every file so the Pi never compresses;
//   4. prints the sizes, and fails if the page (everything index.html loads) exceeds the budget.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants as zlib } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'web');
const out = path.join(root, 'dist', 'web');
/** The page must stay light for a Pi to serve and a phone to load (issue 9: under 150 KB gzipped). */
const BUDGET_GZIP_BYTES = 150 * 1024;

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(web, 'tsconfig.json'), '--noEmit'], { stdio: 'inherit' });

// Old hashed files would stay servable (the server serves what is in the folder): start clean.
rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(out, 'assets'), { recursive: true });

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { app: path.join(web, 'src', 'main.ts') },
  bundle: true,
  minify: true,
  format: 'esm',
  // Browsers of the last few years, phones included; nothing needs polyfills.
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  outdir: out,
  entryNames: 'assets/[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  // The header logo is inlined into the CSS (img-src allows data:), one request fewer.
  loader: { '.svg': 'dataurl' },
  metafile: true,
  sourcemap: false,
  legalComments: 'eof',
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs).filter(([, o]) => o.entryPoint !== undefined || o.cssBundle === undefined);
const js = outputs.find(([file]) => file.endsWith('.js'))?.[0];
const css = outputs.find(([file]) => file.endsWith('.css'))?.[0];
if (!js || !css) throw new Error(`esbuild did not produce app JS and CSS: ${Object.keys(result.metafile.outputs).join(', ')}`);
const url = (file) => `/${path.relative(out, path.resolve(root, file)).split(path.sep).join('/')}`;

const icon = readFileSync(path.join(web, 'icon.svg'));
const iconName = `assets/icon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
writeFileSync(path.join(out, iconName), icon);

const html = readFileSync(path.join(web, 'index.html'), 'utf8')
  .replace('%JS%', url(js))
  .replace('%CSS%', url(css))
  .replace('%ICON%', `/${iconName}`);
if (/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i.test(html)) throw new Error('index.html must have no inline script, style or handler (the CSP forbids them)');
writeFileSync(path.join(out, 'index.html'), html);

const files = readdirSync(out, { recursive: true }).map(String).filter((f) => statSync(path.join(out, f)).isFile());
let total = 0;
let totalGz = 0;
const rows = [];
for (const file of files.sort()) {
  const body = readFileSync(path.join(out, file));
  const gz = gzipSync(body, { level: zlib.Z_BEST_COMPRESSION });
  writeFileSync(path.join(out, `${file}.gz`), gz);
  total += body.length;
  totalGz += gz.length;
  rows.push(`  ${file.padEnd(40)} ${String(body.length).padStart(8)} B  ${String(gz.length).padStart(7)} B gzip`);
}
console.log(`dashboard built into ${path.relative(root, out)}/:\n${rows.join('\n')}\n  ${'whole page'.padEnd(40)} ${String(total).padStart(8)} B  ${String(totalGz).padStart(7)} B gzip`);
if (totalGz > BUDGET_GZIP_BYTES) throw new Error(`the dashboard is ${totalGz} bytes gzipped, over the budget of ${BUDGET_GZIP_BYTES}`);
