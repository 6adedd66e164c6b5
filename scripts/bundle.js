#!/usr/bin/env node
// Builds the extension's runtime into dist/: the client, the `ebpf-studio` CLI (which serves
// `lsp --stdio`), the agent and its verify worker, each one self-contained CommonJS file, plus the
// few packages that must stay files of their own (RUNTIME_PACKAGES) in dist/node_modules.
'use strict';
const { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { execFileSync } = require('node:child_process');
const esbuild = require('esbuild');

const root = join(__dirname, '..');
const dist = join(root, 'dist');
/** Built here first and swapped in at the end, so a test running meanwhile never sees dist/ half-written. */
const staging = join(root, `.dist-build-${process.pid}`);

const ENTRIES = {
  extension: 'client/dist/src/extension.js',
  'ebpf-studio': 'cli/bin/ebpf-studio.js',
  agent: 'remote-agent/dist/src/agent/main.js',
  'verify-worker': 'remote-agent/dist/src/agent/verify-worker.js',
};

/**
 * Packages that stay outside the bundles, copied into dist/node_modules with only their runtime
 * files: koffi (native; finds its binary package by path) and tree-sitter (finds its .wasm files by path).
 */
const RUNTIME_PACKAGES = [
  { name: 'koffi', external: true, keep: (path) => (/\.(c?js|json)$/.test(path) && path !== 'cnoke.cjs') || path === 'LICENSE.txt' },
  { name: '@koromix/koffi-linux-x64', keep: (path) => /^[^/]+\.(js|json)$/.test(path) || path === 'linux_x64/koffi.node' },
  { name: 'web-tree-sitter', external: true, keep: (path) => ['package.json', 'web-tree-sitter.cjs', 'web-tree-sitter.wasm', 'LICENSE'].includes(path) },
  { name: 'tree-sitter-c', keep: (path) => ['package.json', 'tree-sitter-c.wasm', 'LICENSE'].includes(path) },
];

/** Paths of the files under dir, relative to it, with '/' separators. */
function files(dir, prefix = '') {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? files(dir, path) : [path];
  });
}

function compile() {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'client', 'cli', 'remote-agent'], { cwd: root, stdio: 'inherit' });
}

function copyRuntimePackages() {
  for (const { name, keep } of RUNTIME_PACKAGES) {
    const from = join(root, 'node_modules', name);
    for (const path of files(from).filter(keep)) cpSync(join(from, path), join(staging, 'node_modules', name, path));
  }
}

function swapIn() {
  const old = join(root, `.dist-old-${process.pid}`);
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(staging, dist);
  rmSync(old, { recursive: true, force: true });
}

async function bundle() {
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  compile();
  const started = Date.now();
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: Object.entries(ENTRIES).map(([out, input]) => ({ out, in: input })),
    outdir: staging,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // ssh2's optional native speed-ups (cpu-features, *.node) are left out: it falls back to JS.
    external: ['vscode', 'cpu-features', '*.node', ...RUNTIME_PACKAGES.filter((p) => p.external).map((p) => p.name)],
    minify: true,
    keepNames: true,
    sourcemap: false,
    logLevel: 'warning',
  });
  copyRuntimePackages();
  // The templates, for `new` and the editor's New Scheduling Program (their test fixtures stay behind).
  cpSync(join(root, 'bpf-templates'), join(staging, 'bpf-templates'), { recursive: true, filter: (src) => !src.split('/').includes('fixtures') });
  swapIn();
  console.log(`bundled ${Object.keys(ENTRIES).map((e) => `dist/${e}.js`).join(', ')} in ${Date.now() - started} ms`);
}

module.exports = { bundle };

if (require.main === module) {
  bundle().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
