#!/usr/bin/env node
// Bundles the extension (scripts/bundle.js) and packages it with vsce into
// .artifacts/ebpf-traffic-studio.vsix. Dependencies are inside the bundles, so vsce adds none; the
// package is for linux-x64 because it carries koffi's linux-x64 binary.
'use strict';
const { mkdirSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');
const { execFileSync } = require('node:child_process');
const { bundle } = require('./bundle');

const root = join(__dirname, '..');
const VSIX = join(root, '.artifacts', 'ebpf-traffic-studio.vsix');

async function packageVsix() {
  await bundle();
  mkdirSync(join(root, '.artifacts'), { recursive: true });
  const started = Date.now();
  execFileSync(
    process.execPath,
    [require.resolve('@vscode/vsce/vsce'), 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '--target', 'linux-x64', '--out', VSIX],
    { cwd: root, stdio: 'inherit' },
  );
  const size = statSync(VSIX).size;
  console.log(`${relative(root, VSIX)}: ${(size / 1024 / 1024).toFixed(2)} MiB (${size} bytes), packaged in ${Date.now() - started} ms`);
  return VSIX;
}

module.exports = { packageVsix, VSIX };

if (require.main === module) {
  packageVsix().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
