#!/usr/bin/env node
// Verify speed against the raw toolchain, measured in the same run (issue 2):
//  1. warm engine (agent already running, as the language server uses it) vs `clang … && bpftool prog loadall …`
//  2. cold `ebpf-studio verify` process vs the same raw pair
//  3. the 1M-instruction complexity failure: time and peak RSS vs raw `bpftool prog load`
// Same clang flags and headers on both sides (the engine's own argument vector is reused for the baseline).
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, basename } = require('node:path');
const { performance } = require('node:perf_hooks');
const { verifySource, baseFlags } = require('../server/dist/src/index.js');
const { startLocalAgent } = require('../remote-agent/dist/src/index.js');

const ROOT = join(__dirname, '..');
const REPS = Number(process.env.BENCH_REPS ?? 11);
const SAMPLES = [
  join(ROOT, 'examples', 'cluster-lb-connect4.bpf.c'),
  join(ROOT, 'examples', 'xdp-gateway-counter.bpf.c'),
  join(ROOT, 'examples', 'failover-unchecked.bpf.c'),
  join(ROOT, 'server', 'test', 'fixtures', 'verify', 'sockops-skmsg-shortcut.bpf.c'),
  join(ROOT, 'server', 'test', 'fixtures', 'verify', 'tc-gateway-steer.bpf.c'),
];
const COMPLEX = join(ROOT, 'libbpf-ts', 'test', 'data', 'kernel', 'too-complex.bpf.c');
const work = mkdtempSync(join(tmpdir(), 'ebpf-studio-bench-'));
const pinDir = `/sys/fs/bpf/ebpf-studio-bench-${process.pid}`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function rawVerify(file) {
  const obj = join(work, `${basename(file)}.o`);
  const start = performance.now();
  const cc = spawnSync('clang', [...baseFlags(), '-iquote', join(file, '..'), '-c', file, '-o', obj], { stdio: 'ignore' });
  if (cc.status === 0) spawnSync('bpftool', ['prog', 'loadall', obj, pinDir], { stdio: 'ignore' });
  const ms = performance.now() - start;
  rmSync(pinDir, { recursive: true, force: true });
  return ms;
}

/** Wall time and peak RSS (largest process of the tree, from GNU time) of a command; its output is discarded. */
function peakRss(argv) {
  const out = join(work, 'time.txt');
  spawnSync('/usr/bin/time', ['-o', out, '-f', '%e %M', ...argv], { stdio: 'ignore' });
  const [seconds, kb] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { ms: seconds * 1000, mb: kb / 1024 };
}

async function main() {
  const agent = startLocalAgent();
  await agent.info();
  try {
    console.log(`warm engine vs raw clang + bpftool prog loadall (median of ${REPS}, interleaved)`);
    const ratios = [];
    for (const file of SAMPLES) {
      const text = readFileSync(file, 'utf8');
      await verifySource(text, file, { agent });
      rawVerify(file);
      const ours = [];
      const raw = [];
      for (let i = 0; i < REPS; i++) {
        const start = performance.now();
        await verifySource(text, file, { agent });
        ours.push(performance.now() - start);
        raw.push(rawVerify(file));
      }
      const ratio = median(ours) / median(raw);
      ratios.push(ratio);
      console.log(`  ${basename(file).padEnd(34)} ours ${median(ours).toFixed(1).padStart(7)} ms   raw ${median(raw).toFixed(1).padStart(7)} ms   ratio ${ratio.toFixed(2)}`);
    }
    console.log(`  median ratio warm/raw: ${median(ratios).toFixed(2)} (goal ≤ 1.15)`);

    console.log('cold `ebpf-studio verify` process vs raw (median of 5)');
    const cli = join(ROOT, 'cli', 'bin', 'ebpf-studio.js');
    const cold = [];
    const coldRaw = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      spawnSync(process.execPath, [cli, 'verify', SAMPLES[0]], { stdio: 'ignore' });
      cold.push(performance.now() - start);
      coldRaw.push(rawVerify(SAMPLES[0]));
    }
    console.log(`  ours ${median(cold).toFixed(0)} ms   raw ${median(coldRaw).toFixed(0)} ms   ratio ${(median(cold) / median(coldRaw)).toFixed(2)} (reported, no goal)`);

    console.log('1M-instruction complexity failure (one run each)');
    const complexObj = join(work, 'too-complex.o');
    execFileSync('clang', [...baseFlags(), '-c', COMPLEX, '-o', complexObj]);
    const raw = peakRss(['bpftool', 'prog', 'load', complexObj, `${pinDir}-complex`]);
    rmSync(`${pinDir}-complex`, { force: true });
    const ours = peakRss([process.execPath, cli, 'verify', COMPLEX]);
    console.log(`  ours ${ours.ms.toFixed(0)} ms, peak RSS ${ours.mb.toFixed(0)} MB   raw bpftool ${raw.ms.toFixed(0)} ms, peak RSS ${raw.mb.toFixed(0)} MB   time ratio ${(ours.ms / raw.ms).toFixed(2)} (goal ≤ 1.2, RSS < 300 MB)`);
  } finally {
    agent.dispose();
    rmSync(work, { recursive: true, force: true });
    rmSync(pinDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
