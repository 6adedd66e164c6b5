#!/usr/bin/env node
// Remote agent (issue 4), measured against baselines in the same run on namespace nodes with real sshd:
//  - verify over the multiplexed connection vs a naive `ssh node 'clang … && bpftool prog loadall …'` per verify (goal ≤ 0.5)
//  - ring buffer → controller: events/s delivered and drops under overload (goal ≥ 100k/s)
'use strict';
const { spawnSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { compileBpf, createTestNodes, tempDir } = require('../test-support/dist/src/index.js');
const { connectNode, loadInventory, SessionController, EventsNotification, EventsSubscribeRequest, MapDumpRequest } = require('../remote-agent/dist/src/index.js');
const { verifySource, baseFlags } = require('../server/dist/src/index.js');

const ROOT = join(__dirname, '..');
const SAMPLE = join(ROOT, 'examples', 'cluster-lb-connect4.bpf.c');
const REPS = Number(process.env.BENCH_REPS ?? 11);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.js')], { stdio: 'ignore' });
  const nodes = await createTestNodes({ clusters: { east: ['east-1'] } });
  const inventory = loadInventory(nodes.inventory);
  const connection = await connectNode('east-1', { inventory, sshConfigFile: nodes.sshConfig, agentSocket: null });
  try {
    const agent = await connection.agent();
    const text = readFileSync(SAMPLE, 'utf8');
    await verifySource(text, SAMPLE, { agent });
    const naiveCommand = `clang ${baseFlags().join(' ')} -c ${SAMPLE} -o /tmp/bench.o && bpftool prog loadall /tmp/bench.o /sys/fs/bpf/ebpf-studio-bench && rm -rf /sys/fs/bpf/ebpf-studio-bench`;
    const ours = [];
    const naive = [];
    for (let i = 0; i < REPS; i++) {
      let start = performance.now();
      await verifySource(text, SAMPLE, { agent });
      ours.push(performance.now() - start);
      start = performance.now();
      const r = spawnSync('ssh', ['-F', nodes.sshConfig, 'east-1', naiveCommand], { stdio: 'ignore' });
      if (r.status !== 0) throw new Error('the naive ssh baseline failed');
      naive.push(performance.now() - start);
    }
    console.log(`remote verify: ours ${median(ours).toFixed(1)} ms over the multiplexed connection, naive ssh per verify ${median(naive).toFixed(1)} ms, ratio ${(median(ours) / median(naive)).toFixed(2)} (goal ≤ 0.5)`);

    const session = await SessionController.open(agent, { name: 'bench-events', leaseMs: 10_000 });
    try {
      const object = readFileSync(compileBpf(join(__dirname, 'data', 'getppid-events.bpf.c'), tempDir())).toString('base64');
      await session.attach({ object, program: 'on_getppid', target: { kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_getppid' } });
      let delivered = 0;
      let dropped = 0;
      agent.onNotification(EventsNotification, (b) => {
        delivered += b.records.length;
        dropped = b.droppedTransport;
      });
      await agent.request(EventsSubscribeRequest, { id: session.handle.id, source: { kind: 'ringbuf', map: 'ticks', btfType: 'tick' } });
      const start = performance.now();
      nodes.node('east-1').exec('perl', ['-e', 'my $end = time + 3; while (time < $end) { getppid() for 1..10000 }']);
      await new Promise((r) => setTimeout(r, 1000));
      const seconds = (performance.now() - start) / 1000;
      const counters = await agent.request(MapDumpRequest, { id: session.handle.id, map: 'counters' });
      const produced = Number(counters.entries.find((e) => e.key === 0)?.value ?? 0);
      const full = Number(counters.entries.find((e) => e.key === 1)?.value ?? 0);
      console.log(`ring buffer → controller over SSH: ${(delivered / seconds).toFixed(0)} events/s delivered (${delivered} of ${produced} produced in ${seconds.toFixed(1)} s); lost to a full ring buffer ${full}, dropped in our transport ${dropped} (goal ≥ 100k/s)`);
    } finally {
      await session.close();
    }
  } finally {
    await connection.close();
    nodes.remove();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
