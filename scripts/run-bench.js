#!/usr/bin/env node
// Runs every benchmark in bench/ (each prints ratios against a baseline measured in the same run).
'use strict';
const { readdirSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const dir = join(__dirname, '..', 'bench');
const only = process.argv.slice(2);
let failed = 0;
for (const name of readdirSync(dir).filter((f) => f.endsWith('.js')).sort()) {
  if (only.length > 0 && !only.some((o) => name.includes(o))) continue;
  console.log(`\n## ${name}`);
  const r = spawnSync(process.execPath, [join(dir, name)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
