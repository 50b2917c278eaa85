// Builds the operator console (web/) into dist/admin: one ES module bundle (esbuild, with
// Preact), the stylesheet and the page. Nothing is fetched at build or run time.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, 'dist', 'admin');
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: [path.join(root, 'web', 'src', 'main.tsx')],
  outfile: path.join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const f of ['index.html', 'app.css'])
  await copyFile(path.join(root, 'web', f), path.join(out, f));
// uPlot's stylesheet (the Live page's charts), from the package: no CDN.
await copyFile(
  path.join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'),
  path.join(out, 'uplot.css'),
);
