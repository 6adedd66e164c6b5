#!/usr/bin/env node
// Builds the Verifier Explorer into web/dist/: index.html, explorer.js (+ explorer.css and monaco's
// codicon font) and monaco's editor worker. Type-checks src/ first (esbuild only strips types).
'use strict';
const { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { execFileSync } = require('node:child_process');
const esbuild = require('esbuild');

const root = join(__dirname, '..');
const dist = join(root, 'dist');

const common = { absWorkingDir: root, bundle: true, minify: true, target: 'es2022', outdir: dist, logLevel: 'warning' };

async function build() {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', root], { stdio: 'inherit' });
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  await Promise.all([
    // A classic script (no module, no inline code) so a webview can load it under a strict CSP.
    esbuild.build({ ...common, entryPoints: { explorer: 'src/main.ts' }, format: 'iife', loader: { '.ttf': 'file' }, assetNames: '[name]' }),
    // Monaco starts its workers as modules that import this file.
    esbuild.build({ ...common, entryPoints: { 'editor.worker': 'monaco-editor/editor/editor.worker' }, format: 'esm' }),
  ]);
  copyFileSync(join(root, 'src', 'index.html'), join(dist, 'index.html'));
  for (const name of readdirSync(dist).sort()) console.log(`web/dist/${name}: ${(statSync(join(dist, name)).size / 1024).toFixed(1)} KiB`);
}

build().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
