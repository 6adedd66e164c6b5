#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js of each workspace, plus the grammar tests) with
// node's test runner: first the bulk two at a time, then the heavy ones (a real VS Code, the emulated
// VM) one at a time, so they do not starve each other of the machine's two cores. Ends with one line
// "N passed, M failed" for both phases.
'use strict';
const { readdirSync, statSync, existsSync } = require('node:fs');
const { join, relative } = require('node:path');
const { spawn } = require('node:child_process');

const root = join(__dirname, '..');
const workspaces = require(join(root, 'package.json')).workspaces;
const only = process.argv.slice(2);
const HEAVY = /^e2e\/|\/[^/]*vm[^/]*\.test\.js$/;
const heavy = (file) => HEAVY.test(relative(root, file));

function collect(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

function run(files, concurrency) {
  return new Promise((resolve) => {
    if (files.length === 0) return resolve({ pass: 0, fail: 0, code: 0 });
    const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4096);
    });
    child.on('close', (code) => {
      const count = (name) => Number(new RegExp(`^ℹ ${name} (\\d+)$`, 'm').exec(tail)?.[1] ?? 0);
      resolve({ pass: count('pass'), fail: count('fail') + count('cancelled'), code: code ?? 1 });
    });
  });
}

async function main() {
  let files = workspaces.flatMap((ws) => collect(join(root, ws, 'dist', 'test'), []));
  // The grammar tests are plain JavaScript (no build step).
  files.push(join(root, 'syntaxes', 'test', 'grammars.test.js'));
  if (only.length > 0) files = files.filter((f) => only.some((o) => f.includes(o)));
  if (files.length === 0) {
    console.error('no test files found: run `npm run build` first');
    process.exit(1);
  }
  const bulk = await run(files.filter((f) => !heavy(f)), process.env.TEST_CONCURRENCY ?? '2');
  const slow = await run(files.filter((f) => heavy(f)), '1');
  const passed = bulk.pass + slow.pass;
  const failed = bulk.fail + slow.fail;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(bulk.code !== 0 || slow.code !== 0 || failed > 0 ? 1 : 0);
}

main();
