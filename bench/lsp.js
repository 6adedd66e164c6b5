#!/usr/bin/env node
// Language-server speed and memory (issue 3), measured against a baseline in the same run:
//  - edit → publishDiagnostics (debounce 0) vs raw `clang … && bpftool prog loadall …` of the same text
//  - re-verify of unchanged text (served from the cache)
//  - hover and completion p99 on a 1,000-line file; server RSS after 200 verifications
'use strict';
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { LspSession } = require('../server/dist/test/lsp-session.js');
const { baseFlags } = require('../server/dist/src/index.js');

const ROOT = join(__dirname, '..');
const SAMPLE = join(ROOT, 'examples', 'cluster-lb-connect4.bpf.c');
const work = mkdtempSync(join(tmpdir(), 'ebpf-studio-bench-lsp-'));
const pinDir = `/sys/fs/bpf/ebpf-studio-bench-lsp-${process.pid}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p99 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];

function rawVerify(text) {
  const src = join(work, 'raw.bpf.c');
  const obj = join(work, 'raw.o');
  writeFileSync(src, text);
  const start = performance.now();
  const cc = spawnSync('clang', [...baseFlags(), '-iquote', work, '-c', src, '-o', obj], { stdio: 'ignore' });
  if (cc.status === 0) spawnSync('bpftool', ['prog', 'loadall', obj, pinDir], { stdio: 'ignore' });
  const ms = performance.now() - start;
  rmSync(pinDir, { recursive: true, force: true });
  return ms;
}

async function timedEdit(s, uri, text) {
  const from = s.published.length;
  const start = performance.now();
  const version = s.change(uri, text);
  await s.diagnostics(uri, (p) => p.version === version, from);
  return performance.now() - start;
}

function bigFile(base) {
  const body = base.slice(base.indexOf('SEC("cgroup/connect4")'), base.indexOf('char LICENSE'));
  const head = base.slice(0, base.indexOf('SEC("cgroup/connect4")'));
  let text = head;
  for (let i = 0; text.split('\n').length < 1000; i++) text += body.replace('balance_connect4', `balance_connect4_${i}`);
  return `${text}char LICENSE[] SEC("license") = "GPL";\n`;
}

async function main() {
  const base = readFileSync(SAMPLE, 'utf8');
  const s = new LspSession();
  try {
    await s.initialize({ debounceMs: 0 });
    const file = join(work, 'edited.bpf.c');
    writeFileSync(file, base);
    const uri = s.open(file, base);
    await s.diagnostics(uri);

    const ours = [];
    const raw = [];
    for (let i = 0; i < 15; i++) {
      const text = base.replace('return 1;\n}', `return 1; /* edit ${i} */\n}`);
      ours.push(await timedEdit(s, uri, text));
      raw.push(rawVerify(text));
    }
    console.log(`edit → publishDiagnostics: ours ${median(ours).toFixed(1)} ms, raw clang+bpftool ${median(raw).toFixed(1)} ms, ratio ${(median(ours) / median(raw)).toFixed(2)} (goal ≤ 1.15)`);

    const cached = [];
    for (let i = 0; i < 15; i++) cached.push(await timedEdit(s, uri, base.replace('return 1;\n}', `return 1; /* edit ${i % 3} */\n}`)));
    console.log(`re-verify of unchanged text (cache): median ${median(cached.slice(3)).toFixed(2)} ms, edit→publish round trip included (goal < 5 ms)`);

    const big = bigFile(base);
    const bigPath = join(work, 'big.bpf.c');
    writeFileSync(bigPath, big);
    const bigUri = s.open(bigPath, big);
    await s.diagnostics(bigUri);
    const lines = big.split('\n');
    const targets = lines.map((l, i) => [i, l.indexOf('bpf_map_lookup_elem')]).filter(([, c]) => c >= 0);
    const hovers = [];
    const completions = [];
    for (let i = 0; i < 200; i++) {
      const [line, col] = targets[i % targets.length];
      let start = performance.now();
      await s.connection.sendRequest('textDocument/hover', { textDocument: { uri: bigUri }, position: { line, character: col + 2 } });
      hovers.push(performance.now() - start);
      start = performance.now();
      await s.connection.sendRequest('textDocument/completion', { textDocument: { uri: bigUri }, position: { line, character: col + 4 } });
      completions.push(performance.now() - start);
    }
    console.log(`1,000-line file (${lines.length} lines): hover p99 ${p99(hovers).toFixed(1)} ms (median ${median(hovers).toFixed(1)}), completion p99 ${p99(completions).toFixed(1)} ms (median ${median(completions).toFixed(1)})`);

    for (let i = 0; i < 200; i++) await timedEdit(s, uri, base.replace('return 1;\n}', `return 1; /* rss ${i} */\n}`));
    const status = readFileSync(`/proc/${s.pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024;
    console.log(`server RSS after 200 more verifications: ${rss.toFixed(0)} MB (peak ${hwm.toFixed(0)} MB)`);
  } finally {
    await s.dispose();
    rmSync(work, { recursive: true, force: true });
    rmSync(pinDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
