#!/usr/bin/env node
// The VM nodes (issue 5): QEMU VMs with Debian's 6.1 kernel, amd64 and arm64 (BENCH_VM_ARCHES=amd64,arm64 by
// default), each booted and reached over SSH as a bare node.
// Prints the image build (cached or built), boot to SSH, the bootstrap (bytes and time, fresh vs warm),
// the time to the first verdict (fresh vs warm), and verify on the VM vs on this machine for the same
// program. The VM is emulated (TCG): its ratios are properties of the harness, not goals.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { buildVmImage, startVm } = require('../test-support/dist/src/index.js');
const { connectNode, startLocalAgent } = require('../remote-agent/dist/src/index.js');
const { verifySource } = require('../server/dist/src/index.js');

const ROOT = join(__dirname, '..');
/** Accepted by 6.1 and 6.18 alike: both verifiers do the same work. */
const SAMPLE = join(ROOT, 'server', 'test', 'fixtures', 'kernel-matrix', 'tc-count-protocols.bpf.c');
const REPS = Number(process.env.BENCH_REPS ?? 11);
const ARCHES = (process.env.BENCH_VM_ARCHES ?? 'amd64,arm64').split(',').filter(Boolean);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Connect, bootstrap and verify once: the bootstrap report and the time from connect to the verdict. */
async function firstVerdict(vm, text) {
  const started = performance.now();
  const connection = await connectNode(vm.name, { sshConfigFile: vm.sshConfigFile, agentSocket: null });
  try {
    const report = await verifySource(text, SAMPLE, { agent: await connection.agent() });
    if (!report.ok) throw new Error(`${SAMPLE} was not accepted on ${vm.kernelRelease}`);
    return { bootstrap: connection.timings.bootstrap, connectMs: connection.timings.connectMs, verdictMs: performance.now() - started };
  } finally {
    await connection.close();
  }
}

async function benchArch(arch) {
  console.log(`### ${arch}`);
  const image = await buildVmImage({ arch });
  console.log(`image ${image.kernelPackage} ${image.kernelVersion}: ${image.cached ? 'cached' : 'built'} in ${s(image.elapsedMs)}`);
  const vm = await startVm({ name: `bench-${arch}`, image });
  const local = startLocalAgent();
  try {
    console.log(`boot to SSH (QEMU start → \`uname -r\` works): ${s(vm.bootMs)}, kernel ${vm.kernelRelease}`);
    const text = readFileSync(SAMPLE, 'utf8');
    const fresh = await firstVerdict(vm, text);
    const warm = await firstVerdict(vm, text);
    const f = fresh.bootstrap;
    const w = warm.bootstrap;
    console.log(`bootstrap fresh (bare node): agent ${mb(f.payloadBytes)} + Node runtime ${mb(f.runtimeBytes)}, ${mb(f.wireBytes.sent)} on the wire, ${s(f.totalMs)} (agent upload ${s(f.uploadMs)}, runtime upload+unpack ${s(f.runtimeMs)}, agent start ${s(f.startMs)})`);
    console.log(`bootstrap warm: ${w.wireBytes.sent} B on the wire, ${s(w.totalMs)} (agent start ${s(w.startMs)}); warm/fresh ${(w.totalMs / f.totalMs).toFixed(3)}`);
    console.log(`first verdict (connect → verdict): fresh ${s(fresh.verdictMs)}, warm ${s(warm.verdictMs)} (SSH connect ${s(warm.connectMs)}); warm/fresh ${(warm.verdictMs / fresh.verdictMs).toFixed(2)}`);

    const connection = await connectNode(vm.name, { sshConfigFile: vm.sshConfigFile, agentSocket: null });
    try {
      const remote = await connection.agent();
      await verifySource(text, SAMPLE, { agent: local });
      await verifySource(text, SAMPLE, { agent: remote });
      const here = [];
      const there = [];
      for (let i = 0; i < REPS; i++) {
        let start = performance.now();
        await verifySource(text, SAMPLE, { agent: local });
        here.push(performance.now() - start);
        start = performance.now();
        await verifySource(text, SAMPLE, { agent: remote });
        there.push(performance.now() - start);
      }
      console.log(`verify ${SAMPLE.slice(ROOT.length + 1)} (warm agents, median of ${REPS}): this machine ${median(here).toFixed(1)} ms, the VM ${median(there).toFixed(1)} ms, ratio ${(median(there) / median(here)).toFixed(1)} (emulated ${arch} guest over SSH)`);
    } finally {
      await connection.close();
    }
  } finally {
    local.dispose();
    const stopped = await vm.stop();
    console.log(`stop: ${stopped.method} in ${s(stopped.elapsedMs)}`);
  }
}

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'agent.js'))) spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.js')], { stdio: 'ignore' });
  for (const arch of ARCHES) await benchArch(arch);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
