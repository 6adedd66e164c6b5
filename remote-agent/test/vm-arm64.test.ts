/**
 * The agent's arm64 path on a real arm64 kernel: an emulated arm64 VM (qemu-system-aarch64, TCG) with
 * Debian's 6.1 arm64 cloud kernel and no Node.js (test-support's startVm with `arch: 'arm64'`), reached
 * over SSH like any node. The bootstrap uploads the arm64 Node runtime, the agent and koffi's linux-arm64
 * binary; the kernel-matrix fixtures get their verdicts from the arm64 kernel's verifier; a tc program
 * counts packets on a veth inside the VM. One VM serves the whole file and is stopped in `after`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { buildVmImage, ensurePayloadBuilt, eventually, kernelAvailable, requireKernel, startVm, tempDir, type VmImage, type VmNode } from '@ebpf-studio/test-support';
import { connectNode, type NodeConnection } from '../src/controller/connect-node';
import { startLocalAgent } from '../src/controller/local-agent';
import { loadAgentPayload, NODE_RUNTIME_VERSION } from '../src/controller/payload';
import { expectationFor, expectationMismatch, readMatrixFixture, verifyEachFixture } from './kernel-matrix-support';
import { REPO, serverEngine } from './ssh-support';
import { countUdpWithTc, seconds } from './vm-guest-support';

const NODE_CACHE = '/root/.cache/ebpf-studio';
const NODE_NAME = 'arm64-1';
const MB = 1_000_000;

/** `ebpf-studio verify` (the CLI people run) with an ebpf-studio.yaml naming the VM `arm64-1`. */
function cliVerify(vm: VmNode, fixture: string): Promise<{ code: number; out: string; ms: number }> {
  const config = join(tempDir(), 'ebpf-studio.yaml');
  writeFileSync(config, ['clusters:', '  arm:', '    nodes:', `      - name: ${NODE_NAME}`, `        ssh: ${vm.name}`, ''].join('\n'));
  const env = { ...process.env };
  delete env['SSH_AUTH_SOCK'];
  const args = [join(REPO, 'cli', 'bin', 'ebpf-studio.js'), 'verify', fixture, '--node', 'local', '--node', NODE_NAME, '--config', config, '--ssh-config', vm.sshConfigFile];
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: REPO, env, timeout: 5 * 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr, ms: performance.now() - started });
    });
  });
}

describe('an arm64 VM node (Debian 6.1 arm64, emulated): bootstrap from bare, per-kernel verdicts, a tc program on a veth', { timeout: 40 * 60_000 }, () => {
  let image: VmImage | undefined;
  let vm: VmNode | undefined;
  const open: NodeConnection[] = [];

  before(async () => {
    if (!kernelAvailable()) return;
    await ensurePayloadBuilt();
    image = await buildVmImage({ arch: 'arm64' });
    vm = await startVm({ name: 'arm64', image });
  });
  after(async () => {
    for (const c of open) await c.close().catch(() => undefined);
    await vm?.stop();
  });

  async function connect(): Promise<NodeConnection> {
    const connection = await connectNode(vm!.name, { sshConfigFile: vm!.sshConfigFile, agentSocket: null });
    open.push(connection);
    return connection;
  }

  const run = (script: string): Promise<string> => vm!.exec(['sh', '-c', script]);

  test('the image and the guest: arm64 kernel from Debian, no Node.js', async (t) => {
    if (!requireKernel(t)) return;
    assert.equal(vm!.arch, 'arm64');
    assert.match(vm!.kernelRelease, /^6\.1\.0-\d+-cloud-arm64$/);
    assert.equal((await vm!.exec(['uname', '-m'])).trim(), 'aarch64');
    assert.equal((await run('command -v node || echo none')).trim(), 'none', 'the image has no Node.js');
    t.diagnostic(`image ${image!.recipeKey}: ${image!.kernelPackage} ${image!.kernelVersion}; ${image!.cached ? `cached (checked in ${seconds(image!.elapsedMs)}; built in ${seconds(image!.buildMs)})` : `built cold in ${seconds(image!.elapsedMs)}`}`);
    t.diagnostic(`boot to SSH: ${seconds(vm!.bootMs)}`);
  });

  test('bootstrap from bare: the arm64 Node runtime, the agent and koffi\'s linux-arm64 binary are uploaded; the agent runs on them', async (t) => {
    if (!requireKernel(t)) return;
    const started = performance.now();
    const fresh = await connect();
    assert.equal(fresh.info.arch, 'arm64');
    assert.equal(fresh.info.nodeFound, '', 'the VM has no Node.js');
    assert.equal(fresh.info.payload, 'missing');
    assert.equal(fresh.info.runtime, 'missing');
    const agent = await fresh.agent();
    const bootstrapMs = performance.now() - started;
    const info = await agent.info();
    assert.equal(info.arch, 'arm64');
    assert.equal(info.kernelRelease, vm!.kernelRelease);
    assert.equal(info.nodeVersion, `v${NODE_RUNTIME_VERSION}`, 'the uploaded runtime runs the agent');
    assert.equal(info.btf, true);
    assert.deepEqual(info.problems, [], 'libbpf through koffi works');
    const cold = fresh.timings.bootstrap!;
    assert.equal(cold.fresh, true);
    assert.ok(cold.payloadBytes > MB, `the agent was uploaded (${cold.payloadBytes} bytes)`);
    assert.ok(cold.runtimeBytes > 40 * MB, `the Node runtime was uploaded (${cold.runtimeBytes} bytes)`);
    const dir = `${NODE_CACHE}/${loadAgentPayload().hash}`;
    const koffi = `${dir}/node_modules/@koromix/koffi-linux-arm64/linux_arm64/koffi.node`;
    // ELF e_machine (2 bytes at offset 18): 0xb7 = EM_AARCH64.
    assert.equal((await vm!.exec(['od', '-An', '-tx1', '-j18', '-N2', koffi])).trim(), 'b7 00', `${koffi} is an arm64 binary`);
    const runtime = `${NODE_CACHE}/node-v${NODE_RUNTIME_VERSION}-linux-arm64/bin/node`;
    assert.equal(fresh.info.nodePath, undefined);
    assert.ok((await run(`test -x ${runtime} && echo ok`)).includes('ok'), `${runtime} is there`);
    await fresh.close();

    const again = await connect();
    assert.equal(again.info.payload, 'complete');
    assert.equal(again.info.nodePath, runtime);
    const warmStarted = performance.now();
    await (await again.agent()).info();
    const warm = again.timings.bootstrap!;
    assert.equal(warm.payloadBytes + warm.runtimeBytes, 0, 'the second connection uploads nothing');
    await again.close();
    t.diagnostic(`fresh bootstrap: agent ${cold.payloadBytes} B (${cold.payloadFiles} files with koffi's linux_arm64/koffi.node) + runtime ${cold.runtimeBytes} B, ${cold.wireBytes.sent} B on the wire; upload ${seconds(cold.uploadMs)}, runtime upload+unpack ${seconds(cold.runtimeMs)}, agent start ${seconds(cold.startMs)}; agent answering after ${seconds(bootstrapMs)}`);
    t.diagnostic(`warm: ${warm.wireBytes.sent} B sent; agent start ${seconds(warm.startMs)}; answering after ${seconds(performance.now() - warmStarted)}`);
  });

  test('per-kernel verdicts: each kernel-matrix fixture verified by the arm64 kernel, as the fixture declares for its release; timed against this machine', async (t) => {
    if (!requireKernel(t)) return;
    const engine = serverEngine();
    const connection = await connect();
    const remote = await connection.agent();
    const local = startLocalAgent();
    try {
      const localKernel = (await local.info()).kernelRelease;
      const mismatches: string[] = [];
      const time = { local: 0, vm: 0, fixtures: 0 };
      for await (const run of verifyEachFixture(engine.verifySource, local, remote)) {
        time.local += run.localMs;
        time.vm += run.nodeMs;
        time.fixtures += 1;
        for (const [kernel, report] of [[localKernel, run.here], [vm!.kernelRelease, run.there]] as const) {
          const mismatch = expectationMismatch(run, kernel, report);
          if (mismatch) mismatches.push(mismatch);
        }
        const verdicts = run.there.programs.map((p) => `${p.name} ${p.verdict}`).join(', ');
        const codes = run.there.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}@${d.line}`).join(', ');
        t.diagnostic(`${run.name} on ${vm!.kernelRelease}: ${verdicts}${codes ? ` (${codes})` : ''} in ${run.nodeMs.toFixed(0)} ms`);
      }
      t.diagnostic(`verifySource over ${time.fixtures} fixtures: this machine ${time.local.toFixed(0)} ms, the arm64 VM ${time.vm.toFixed(0)} ms (${(time.vm / time.local).toFixed(1)}×, emulated)`);
      assert.deepEqual(mismatches, []);
    } finally {
      local.dispose();
      await connection.close();
    }

    const fixture = readMatrixFixture('xdp-config-const-key.bpf.c');
    const expected = expectationFor(fixture, vm!.kernelRelease);
    if (expected.accepted) assert.fail(`${fixture.name} declares a rejection for 6.1`);
    const rejection = expected.errors[0]!.split('@')[0]!;
    const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const cli = await cliVerify(vm!, fixture.path);
    assert.equal(cli.code, 1, cli.out);
    const row = /^gateway_switch \[SEC\("xdp"\)\]: (.*)$/m.exec(cli.out)?.[1] ?? '';
    assert.match(row, new RegExp(`^✓ local \\(.*\\) · ✗ ${NODE_NAME} \\(${esc(vm!.kernelRelease)}\\) ${rejection}$`), cli.out);
    t.diagnostic(`ebpf-studio verify --node local --node ${NODE_NAME}: ${row} (${seconds(cli.ms)})`);
  });

  test('attach on arm64 6.1: a tc program as a clsact filter on a veth inside the VM; counters grow; close leaves nothing', async (t) => {
    if (!requireKernel(t)) return;
    const connection = await connect();
    try {
      const agent = await connection.agent();
      assert.equal((await agent.info()).features?.['tcx'], false, '6.1 has no tcx');
      // a64x0 here, a64x1 in a namespace inside the VM; the user-mode NIC carries SSH
      const { attached, first, second } = await countUdpWithTc(agent, run, 'a64', 'vm-arm64-tc', async (a) => {
        assert.equal(a.mechanism, 'tc-filter', 'the clsact fallback');
        assert.match(await run(`bpftool prog show id ${a.progId}`), /jited/, 'the arm64 JIT compiled it');
      });
      t.diagnostic(`tc-filter prog ${attached.progId} on a64x0: ${first} → ${second} UDP packets`);
    } finally {
      await connection.close();
    }
    // `[a]gent[.]js` matches the agent's and session processes' command lines, not this shell's own.
    const agents = (): Promise<string> => run('cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " " | grep -o "[a]gent[.]js" || true');
    assert.ok(await eventually(async () => (await agents()).trim() === '', 15_000), 'no agent or session process is left on the node');
    assert.equal((await run('ip -o link show a64x0 2>/dev/null || true')).trim(), '', 'the veth went with its namespace');
  });
});
