/**
 * The kernel matrix on a real second kernel: a QEMU VM with Debian's 6.1 cloud kernel and no Node.js
 * (test-support's startVm), reached over SSH like any node. One VM serves the whole file and is stopped
 * in `after`, also when a test fails.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ensurePayloadBuilt, kernelAvailable, requireKernel, startVm, type VmNode } from '@ebpf-studio/test-support';
import type { AgentClient } from '../src/controller/agent-client';
import { connectNode, type ConnectNodeOptions, type NodeConnection } from '../src/controller/connect-node';
import { startLocalAgent } from '../src/controller/local-agent';
import { NODE_RUNTIME_VERSION, loadAgentPayload } from '../src/controller/payload';
import { bootstrapCommand, START_EXIT } from '../src/controller/ssh/bootstrap-script';
import { expectationFor, expectationMismatch, observed, readMatrixFixture, verifyEachFixture } from './kernel-matrix-support';
import { serverEngine, type EngineReport, type ServerEngine } from './ssh-support';
import { countUdpWithTc, seconds } from './vm-guest-support';

const NODE_NAME = 'legacy-1';
const NODE_CACHE = '/root/.cache/ebpf-studio';
const MB = 1_000_000;

interface MatrixEngine extends ServerEngine {
  verdictMatrix(outcomes: { node: string; kernel: string; report: EngineReport }[]): {
    programs: { name: string; verdicts: Record<string, { verdict: string; kernel: string; code?: string }> }[];
    diagnostics: { code: string; line: number; severity: string; message: string; nodes: string[] }[];
  };
}

describe('a VM node with Debian\'s 6.1 kernel: per-kernel verdicts, bootstrap from bare, the tc fallback', { timeout: 15 * 60_000 }, () => {
  let vm: VmNode | undefined;
  const open: NodeConnection[] = [];

  before(async () => {
    if (!kernelAvailable()) return;
    await ensurePayloadBuilt();
    vm = await startVm({ name: 'legacy' });
  });
  after(async () => {
    for (const c of open) await c.close().catch(() => undefined);
    await vm?.stop();
  });

  async function connect(options: ConnectNodeOptions = {}): Promise<NodeConnection> {
    const connection = await connectNode(vm!.name, { sshConfigFile: vm!.sshConfigFile, agentSocket: null, ...options });
    open.push(connection);
    return connection;
  }

  /** Files under the node's cache whose names say an upload or an unpack never finished. */
  async function unfinishedFiles(): Promise<string[]> {
    const out = await vm!.exec(['find', NODE_CACHE, '(', '-name', '*.part-*', '-o', '-name', '*.unpack.*', ')']);
    return out.split('\n').filter(Boolean);
  }

  /** A verdict from the VM's agent: the const-key fixture, refused by 6.1 as the fixture declares. */
  async function firstVerdict(agent: AgentClient): Promise<void> {
    const fixture = readMatrixFixture('xdp-config-const-key.bpf.c');
    const report = await serverEngine().verifySource(fixture.text, fixture.path, { agent });
    assert.deepEqual(observed(report), expectationFor(fixture, vm!.kernelRelease));
  }

  test('bootstrap from bare: the first connection uploads the Node runtime and the agent, the second reuses them', async (t) => {
    if (!requireKernel(t)) return;
    assert.match(vm!.kernelRelease, /^6\.1\./);
    const started = performance.now();
    const fresh = await connect();
    assert.equal(fresh.info.nodeFound, '', 'the VM has no Node.js');
    assert.equal(fresh.info.payload, 'missing');
    assert.equal(fresh.info.runtime, 'missing');
    const agent = await fresh.agent();
    const info = await agent.info();
    assert.equal(info.kernelRelease, vm!.kernelRelease);
    assert.equal(info.nodeVersion, `v${NODE_RUNTIME_VERSION}`, 'the uploaded runtime runs the agent');
    assert.deepEqual(info.problems, []);
    await firstVerdict(agent);
    const freshMs = performance.now() - started;
    const cold = fresh.timings.bootstrap!;
    assert.equal(cold.fresh, true);
    assert.ok(cold.payloadBytes > MB, `the agent was uploaded (${cold.payloadBytes} bytes)`);
    assert.ok(cold.runtimeBytes > 40 * MB, `the Node runtime was uploaded (${cold.runtimeBytes} bytes)`);
    assert.ok(cold.wireBytes.sent > 40 * MB, `${cold.wireBytes.sent} bytes on the wire`);
    await fresh.close();

    const warmStarted = performance.now();
    const again = await connect();
    assert.equal(again.info.payload, 'complete');
    assert.equal(again.info.runtime, 'complete');
    assert.equal(again.info.nodePath, `${NODE_CACHE}/node-v${NODE_RUNTIME_VERSION}-linux-x64/bin/node`);
    await firstVerdict(await again.agent());
    const warmMs = performance.now() - warmStarted;
    const warm = again.timings.bootstrap!;
    assert.equal(warm.fresh, false);
    assert.equal(warm.payloadBytes + warm.runtimeBytes, 0, 'the second connection uploads nothing');
    assert.ok(warm.wireBytes.sent < 100_000, `${warm.wireBytes.sent} bytes sent`);
    await again.close();
    t.diagnostic(`fresh: agent ${cold.payloadBytes} B + runtime ${cold.runtimeBytes} B, ${cold.wireBytes.sent} B on the wire; bootstrap ${seconds(cold.totalMs)} (upload+unpack of the runtime ${seconds(cold.runtimeMs)}); first verdict after ${seconds(freshMs)}`);
    t.diagnostic(`warm: ${warm.wireBytes.sent} B sent; bootstrap ${seconds(warm.totalMs)}; first verdict after ${seconds(warmMs)}`);
  });

  test('per-kernel verdicts: each kernel-matrix fixture on this machine and on the VM, side by side', async (t) => {
    if (!requireKernel(t)) return;
    const engine = serverEngine() as MatrixEngine;
    const connection = await connect();
    const remote = await connection.agent();
    const local = startLocalAgent();
    try {
      const localKernel = (await local.info()).kernelRelease;
      const vmKernel = (await remote.info()).kernelRelease;
      /** Every way a fixture differs from what it declares, so one mismatch does not hide the next. */
      const mismatches: string[] = [];
      const check = (ok: boolean, what: string): void => {
        if (!ok) mismatches.push(what);
      };
      let differing = 0;
      const time = { local: 0, vm: 0, fixtures: 0 };
      for await (const run of verifyEachFixture(engine.verifySource, local, remote)) {
        const { name, here, there } = run;
        time.local += run.localMs;
        time.vm += run.nodeMs;
        time.fixtures += 1;
        const localExpected = expectationFor(run.fixture, localKernel);
        const vmExpected = expectationFor(run.fixture, vmKernel);
        for (const mismatch of [expectationMismatch(run, localKernel, here), expectationMismatch(run, vmKernel, there)]) if (mismatch) mismatches.push(mismatch);

        const matrix = engine.verdictMatrix([
          { node: 'local', kernel: localKernel, report: here },
          { node: NODE_NAME, kernel: vmKernel, report: there },
        ]);
        if (localExpected.accepted && !vmExpected.accepted) {
          differing += 1;
          for (const row of matrix.programs) {
            const cells = `${name}: ${row.name} ${JSON.stringify(row.verdicts)}`;
            check(row.verdicts['local']?.verdict === 'accepted', `${cells}: accepted on this machine`);
            check(row.verdicts[NODE_NAME]?.verdict !== 'accepted', `${cells}: refused on the VM`);
            check(row.verdicts[NODE_NAME]?.code === vmExpected.errors[0]!.split('@')[0], `${cells}: the code in the VM's cell`);
          }
        }
        for (const d of matrix.diagnostics.filter((x) => x.severity === 'error' && x.nodes.length < 2)) {
          check(isDeepStrictEqual(d.nodes, [NODE_NAME]) && d.message.endsWith(`(kernel ${vmKernel} only)`), `${name}: ${d.code} on ${d.nodes.join(', ')}: ${d.message}`);
        }
        t.diagnostic(`${name}: ${matrix.programs.map((p) => Object.entries(p.verdicts).map(([n, v]) => `${v.verdict === 'accepted' ? '✓' : '✗'} ${n} ${v.code ?? ''}`.trim()).join(' · ')).join('; ')}`);
      }
      t.diagnostic(`verifySource over ${time.fixtures} fixtures: this machine ${time.local.toFixed(0)} ms, the VM ${time.vm.toFixed(0)} ms (${(time.vm / time.local).toFixed(1)}×, emulated)`);
      assert.deepEqual(mismatches, []);
      assert.ok(differing >= 3, `${differing} fixtures are accepted here and refused on 6.1`);
    } finally {
      local.dispose();
      await connection.close();
    }
  });

  test('attach on 6.1: no tcx, so a tc program attaches as a clsact filter on a veth inside the VM; counters grow; close leaves nothing', async (t) => {
    if (!requireKernel(t)) return;
    const run = (script: string): Promise<string> => vm!.exec(['sh', '-c', script]);
    const connection = await connect();
    try {
      const agent = await connection.agent();
      assert.equal((await agent.info()).features?.['tcx'], false, '6.1 has no tcx');
      // kmx0 here, kmx1 in a namespace inside the VM; ens3 (user-mode net) carries SSH
      const { attached, first, second } = await countUdpWithTc(agent, run, 'kmx', 'vm-tc-fallback', async (a, session, object) => {
        assert.ok((await agent.info()).interfaces?.some((i) => i.name === 'kmx0'));
        assert.equal(a.mechanism, 'tc-filter', 'the clsact fallback');
        assert.equal(a.linkId, undefined);
        await assert.rejects(session.attach({ object, program: 'count_protocols', target: { kind: 'tc', iface: 'ens3', direction: 'ingress' } }), /carries this SSH session/);
      });
      t.diagnostic(`tc-filter prog ${attached.progId} on kmx0: ${first} → ${second} UDP packets`);
    } finally {
      await connection.close();
    }
  });

  test('an upload cut mid-runtime is never run, and the retry completes it', async (t) => {
    if (!requireKernel(t)) return;
    await vm!.exec(['rm', '-rf', NODE_CACHE]);
    let cut = false;
    let interrupted: NodeConnection | undefined;
    interrupted = await connect({
      // The agent (≈1.5 MB) goes first, then the runtime (≈43 MB): half of the total is inside the runtime.
      onUploadProgress: (bytes, total) => {
        if (!cut && bytes > total / 2) {
          cut = true;
          interrupted!.ssh.destroy();
        }
      },
    });
    await assert.rejects(interrupted.agent());
    assert.ok(cut, 'the connection was cut mid-upload');

    const retry = await connect();
    assert.equal(retry.info.payload, 'complete', 'the agent was uploaded before the cut');
    assert.equal(retry.info.runtime, 'missing', 'the runtime was not');
    assert.equal(retry.info.nodePath, undefined);
    assert.ok((await unfinishedFiles()).length > 0, 'half a runtime archive lies under a temporary name');
    const start = await retry.ssh.run(bootstrapCommand('start', loadAgentPayload().hash, NODE_RUNTIME_VERSION, false));
    assert.equal(start.code, START_EXIT.noNode, 'the start action finds no runnable Node.js');
    assert.equal(start.stdout, '', 'nothing was started');

    await firstVerdict(await retry.agent());
    const report = retry.timings.bootstrap!;
    assert.equal(report.fresh, true);
    assert.equal(report.payloadBytes, 0, 'the complete agent is not uploaded again');
    assert.ok(report.runtimeBytes > 40 * MB, `the runtime is uploaded again (${report.runtimeBytes} bytes)`);
    assert.deepEqual(await unfinishedFiles(), [], 'no temporary files are left');
    t.diagnostic(`retry: runtime ${report.runtimeBytes} B in ${seconds(report.runtimeMs)}`);
  });
});
