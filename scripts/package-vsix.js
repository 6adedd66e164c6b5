#!/usr/bin/env node
// Bundles the extension (scripts/bundle.js) and packages it with vsce, one VSIX per platform because
// each carries koffi's native binary for it:
//
//   node scripts/package-vsix.js                        → .artifacts/ebpf-traffic-studio.vsix (linux-x64)
//   node scripts/package-vsix.js --target linux-arm64   → .artifacts/ebpf-traffic-studio-linux-arm64.vsix
//
// Dependencies are inside the bundles, so vsce adds none. linux-x64 is packaged from the repository
// with dist/ (what the tests run); another platform from a package tree of its own (the files vsce
// would take from the repository, with a dist/ bundled for that platform), so dist/ stays x64.
'use strict';
const { cpSync, mkdirSync, rmSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');
const { execFileSync } = require('node:child_process');
const { bundle, TARGETS } = require('./bundle');

const root = join(__dirname, '..');
const VSIX = join(root, '.artifacts', 'ebpf-traffic-studio.vsix');
const VSCE = require.resolve('@vscode/vsce/vsce');

/** Where the VSIX of `target` is written. */
function vsixPath(target = 'linux-x64') {
  return target === 'linux-x64' ? VSIX : join(root, '.artifacts', `ebpf-traffic-studio-${target}.vsix`);
}

function vscePackage(cwd, target, out) {
  execFileSync(
    process.execPath,
    [VSCE, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '--target', target, '--out', out],
    { cwd, stdio: 'inherit' },
  );
}

/** The package tree for a non-default target: the repository's packaged files except dist/, which is bundled for target. */
async function packageTree(target) {
  const tree = join(root, '.artifacts', `.vsix-${target}-${process.pid}`);
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  const listed = execFileSync(process.execPath, [VSCE, 'ls', '--no-dependencies'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim())
    .filter((path) => path !== '' && !path.startsWith('dist/'));
  for (const path of [...listed, '.vscodeignore']) cpSync(join(root, path), join(tree, path));
  await bundle({ target, out: join(tree, 'dist') });
  return tree;
}

async function packageVsix(target = 'linux-x64') {
  if (!TARGETS.includes(target)) throw new Error(`unknown target ${target}: one of ${TARGETS.join(', ')}`);
  const out = vsixPath(target);
  mkdirSync(join(root, '.artifacts'), { recursive: true });
  let tree;
  try {
    if (target === 'linux-x64') await bundle();
    else tree = await packageTree(target);
    const started = Date.now();
    vscePackage(tree ?? root, target, out);
    const size = statSync(out).size;
    console.log(`${relative(root, out)}: ${(size / 1024 / 1024).toFixed(2)} MiB (${size} bytes), packaged in ${Date.now() - started} ms`);
    return out;
  } finally {
    if (tree) rmSync(tree, { recursive: true, force: true });
  }
}

module.exports = { packageVsix, vsixPath, VSIX };

if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.findIndex((a) => a === '--target' || a.startsWith('--target='));
  const target = at < 0 ? undefined : args[at].includes('=') ? args[at].split('=')[1] : args[at + 1];
  const unknown = args.filter((a, i) => i !== at && !(args[at] === '--target' && i === at + 1));
  if (unknown.length > 0 || (at >= 0 && !target)) {
    console.error(`usage: package-vsix.js [--target ${TARGETS.join('|')}]`);
    process.exit(2);
  }
  packageVsix(target).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
