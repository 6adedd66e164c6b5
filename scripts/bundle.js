#!/usr/bin/env node
// Builds the extension's runtime into dist/: the client, the `ebpf-studio` CLI (which serves
// `lsp --stdio`), the agent and its verify worker, each one self-contained CommonJS file, plus the
// few packages that must stay files of their own (RUNTIME_PACKAGES) in dist/node_modules.
//
//   node scripts/bundle.js [--target linux-x64|linux-arm64] [--out DIR]
//
// The target picks koffi's native binary: linux-x64 comes from node_modules; another is
// @koromix/koffi-linux-<arch>@<koffi's version in package-lock.json>, fetched once with `npm pack` into
// the controller's cache (remote-agent's payload helper, as bootstraps do for nodes). Default: linux-x64
// into dist/ (what the tests and the CLI run); a bundle for another platform goes elsewhere (--out).
'use strict';
const { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { execFileSync } = require('node:child_process');
const esbuild = require('esbuild');

const root = join(__dirname, '..');
const dist = join(root, 'dist');
/** Built here first and swapped in at the end, so a test running meanwhile never sees dist/ half-written. */
function stagingFor(out) {
  return join(out, '..', `.dist-build-${process.pid}`);
}

const TARGETS = ['linux-x64', 'linux-arm64'];

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
  { name: '@koromix/koffi-linux-x64', arch: 'x64', keep: (path) => /^[^/]+\.(js|json)$/.test(path) || path === 'linux_x64/koffi.node' },
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

/** koffi's version as package-lock.json pins it (the installed koffi must be that one). */
function koffiVersion() {
  const locked = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages?.['node_modules/koffi']?.version;
  if (!locked) throw new Error('package-lock.json pins no koffi version (packages["node_modules/koffi"])');
  const installed = JSON.parse(readFileSync(join(root, 'node_modules', 'koffi', 'package.json'), 'utf8')).version;
  if (installed !== locked) throw new Error(`node_modules/koffi is ${installed} but package-lock.json pins ${locked}: run npm ci`);
  return locked;
}

/** koffi's binary package for arch, into staging: from node_modules when installed there (x64), else fetched from the npm registry. */
async function copyKoffiBinary(staging, arch) {
  const local = RUNTIME_PACKAGES.find((p) => p.arch === arch);
  if (local && existsSync(join(root, 'node_modules', local.name))) {
    const from = join(root, 'node_modules', local.name);
    for (const path of files(from).filter(local.keep)) cpSync(join(from, path), join(staging, 'node_modules', local.name, path));
    return;
  }
  // remote-agent's helper: `npm pack @koromix/koffi-linux-<arch>@<version>` into its cache, unpacked once.
  const { archFiles } = require(join(root, 'remote-agent', 'dist', 'src', 'controller', 'payload.js'));
  for (const file of await archFiles({ dir: staging, koffiVersion: koffiVersion(), common: [], hash: '' }, arch)) {
    cpSync(file.source, join(staging, file.path));
  }
}

async function copyRuntimePackages(staging, arch) {
  for (const { name, keep, arch: only } of RUNTIME_PACKAGES) {
    if (only) continue;
    const from = join(root, 'node_modules', name);
    for (const path of files(from).filter(keep)) cpSync(join(from, path), join(staging, 'node_modules', name, path));
  }
  await copyKoffiBinary(staging, arch);
}

function swapIn(staging, out) {
  const old = join(out, '..', `.dist-old-${process.pid}`);
  if (existsSync(out)) renameSync(out, old);
  renameSync(staging, out);
  rmSync(old, { recursive: true, force: true });
}

/** Bundles for `target` (linux-x64 | linux-arm64) into `out` (default dist/), built beside it in a staging dir and swapped in. */
async function bundle({ target = 'linux-x64', out = dist } = {}) {
  if (!TARGETS.includes(target)) throw new Error(`unknown target ${target}: one of ${TARGETS.join(', ')}`);
  const arch = target.slice('linux-'.length);
  const staging = stagingFor(out);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await build(staging, arch);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  swapIn(staging, out);
}

async function build(staging, arch) {
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
  await copyRuntimePackages(staging, arch);
  // The templates, for `new` and the editor's New Scheduling Program (their test fixtures stay behind).
  cpSync(join(root, 'bpf-templates'), join(staging, 'bpf-templates'), { recursive: true, filter: (src) => !src.split('/').includes('fixtures') });
  console.log(`bundled ${Object.keys(ENTRIES).map((e) => `${e}.js`).join(', ')} for linux-${arch} in ${Date.now() - started} ms`);
}

/** `--target T` and `--out DIR` from argv. */
function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--target') options.target = value();
    else if (flag === '--out') options.out = resolve(value());
    else throw new Error(`unknown argument ${argv[i]} (usage: bundle.js [--target ${TARGETS.join('|')}] [--out DIR])`);
  }
  return options;
}

module.exports = { bundle, parseArgs, TARGETS };

if (require.main === module) {
  Promise.resolve()
    .then(() => bundle(parseArgs(process.argv.slice(2))))
    .catch((err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
