import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { readKernelKfuncs, VMLINUX_BTF } from '@ebpf-studio/libbpf-ts';
import { ensurePayloadBuilt, kernelAvailable, requireKernel } from '@ebpf-studio/test-support';
import { createTestNodes, type TestNodes } from '@ebpf-studio/test-support';
import { connectNode, type ConnectNodeOptions, type NodeConnection } from '../src/controller/connect-node';
import { loadInventory, type Inventory } from '../src/controller/inventory';
import { startLocalAgent } from '../src/controller/local-agent';
import { loadAgentPayload, NODE_RUNTIME_VERSION } from '../src/controller/payload';
import { bootstrapCommand, START_EXIT } from '../src/controller/ssh/bootstrap-script';
import { REPO, serverEngine, type EngineReport } from './ssh-support';

const FIXTURES = join(REPO, 'server', 'test', 'fixtures', 'verify');
/** Accepted and rejected programs of several types, caps mode and settings included. */
const VERIFY_FIXTURES = [
  'connect4-lb-null-backend.bpf.c',
  'connect4-vip-rewrite.bpf.c',
  'connect4-weighted-pick-caps.bpf.c',
  'multi-three.bpf.c',
  'tc-sk-lookup-leak.bpf.c',
  'tc-gateway-steer.bpf.c',
  'sockops-rewrite-port-ctx.bpf.c',
  'xdp-clusters-setting-oob.bpf.c',
  'xdp-gateway-settings.bpf.c',
  'xdp-misspelt-helper.bpf.c',
];

function fixtureOptions(text: string): { caps?: string; sets: Record<string, string> } {
  const caps = /^\/\/ fixture: caps=(\S+)/m.exec(text)?.[1];
  const sets: Record<string, string> = {};
  for (const m of text.matchAll(/^\/\/ fixture: set=([^=\s]+)=(\S+)/gm)) sets[m[1]!] = m[2]!;
  return { ...(caps ? { caps } : {}), sets };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('bootstrap over SSH onto namespace nodes (real sshd)', () => {
  let nodes: TestNodes | undefined;
  let inventory: Inventory;
  const open: NodeConnection[] = [];

  before(async () => {
    if (!kernelAvailable()) return;
    await ensurePayloadBuilt();
    nodes = await createTestNodes({ clusters: { east: ['east-1', 'east-2'], west: ['west-1'] }, hideNode: ['west-1'] });
    inventory = loadInventory(nodes.inventory);
  });
  after(async () => {
    for (const c of open) await c.close();
    nodes?.remove();
  });

  async function connect(name: string, options: ConnectNodeOptions = {}): Promise<NodeConnection> {
    const connection = await connectNode(name, { inventory, sshConfigFile: nodes!.sshConfig, agentSocket: null, ...options });
    open.push(connection);
    return connection;
  }

  test('a node with Node.js: the agent is uploaded once, then started warm from the cache', async (t) => {
    if (!requireKernel(t)) return;
    const fresh = await connect('east-1');
    assert.equal(fresh.info.payload, 'missing');
    assert.equal(fresh.info.nodeFound, process.version);
    const agent = await fresh.agent();
    const info = await agent.info();
    assert.equal(info.kernelRelease, readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    assert.equal(info.nodeVersion, process.version, 'the node\'s own Node.js runs the agent');
    assert.deepEqual(info.problems, []);
    const cold = fresh.timings.bootstrap!;
    assert.equal(cold.fresh, true);
    assert.equal(cold.runtimeBytes, 0);
    assert.ok(cold.payloadBytes > 100_000);
    const hash = loadAgentPayload().hash;
    assert.equal(readFileSync(join(nodes!.node('east-1').rootHome, '.cache', 'ebpf-studio', hash, '.complete'), 'utf8'), hash);
    await fresh.close();

    const again = await connect('east-1');
    assert.equal(again.info.payload, 'complete');
    await (await again.agent()).info();
    const warm = again.timings.bootstrap!;
    assert.equal(warm.fresh, false);
    assert.equal(warm.payloadBytes, 0);
    t.diagnostic(`connect+auth ${fresh.timings.connectMs.toFixed(0)} ms, probe ${fresh.timings.probeMs.toFixed(0)} ms`);
    t.diagnostic(`fresh bootstrap with Node.js: ${cold.payloadFiles} files, ${cold.payloadBytes} bytes uploaded (${cold.wireBytes.sent} bytes on the wire) in ${cold.totalMs.toFixed(0)} ms`);
    t.diagnostic(`warm bootstrap: ${warm.wireBytes.sent} bytes sent, ${warm.totalMs.toFixed(0)} ms (agent start ${warm.startMs.toFixed(0)} ms)`);
  });

  test('a node without Node.js gets the pinned runtime from the npm registry, once', async (t) => {
    if (!requireKernel(t)) return;
    const fresh = await connect('west-1');
    assert.equal(fresh.info.nodeFound, '', 'node is hidden on this node');
    assert.equal(fresh.info.nodePath, undefined);
    const info = await (await fresh.agent()).info();
    assert.equal(info.nodeVersion, `v${NODE_RUNTIME_VERSION}`);
    const cold = fresh.timings.bootstrap!;
    assert.ok(cold.runtimeBytes > 10_000_000, `runtime uploaded (${cold.runtimeBytes} bytes)`);
    await fresh.close();

    const again = await connect('west-1');
    assert.match(again.info.nodePath ?? '', /\.cache\/ebpf-studio\/node-v20\.\d+\.\d+-linux-x64\/bin\/node$/);
    await (await again.agent()).info();
    const warm = again.timings.bootstrap!;
    assert.equal(warm.fresh, false);
    assert.equal(warm.runtimeBytes + warm.payloadBytes, 0, 'the second connection uploads nothing');
    t.diagnostic(`fresh bootstrap without Node.js: agent ${cold.payloadBytes} bytes + runtime ${cold.runtimeBytes} bytes, ${cold.wireBytes.sent} bytes on the wire, ${cold.totalMs.toFixed(0)} ms (runtime upload+unpack ${cold.runtimeMs.toFixed(0)} ms)`);
    t.diagnostic(`warm: ${warm.totalMs.toFixed(0)} ms`);
  });

  test('remote verify gives the same verdicts and diagnostics as local', async (t) => {
    if (!requireKernel(t)) return;
    const engine = serverEngine();
    const remote = await (await connect('east-1')).agent();
    const local = startLocalAgent();
    try {
      const summary = (r: EngineReport): unknown => ({
        ok: r.ok,
        programs: r.programs.map((p) => [p.name, p.verdict]),
        diagnostics: r.diagnostics.map((d) => [d.code, d.line, d.column, d.severity, d.message]),
      });
      const time = { local: 0, remote: 0 };
      let rejected = 0;
      // Round 0 warms both agents' workers (one per capability mode) and compares; round 1 is timed.
      for (const round of [0, 1]) {
        for (const name of VERIFY_FIXTURES) {
          const file = join(FIXTURES, name);
          const text = readFileSync(file, 'utf8');
          const options = fixtureOptions(text);
          let started = performance.now();
          const here = await engine.verifySource(text, file, { agent: local, ...options });
          if (round === 1) time.local += performance.now() - started;
          started = performance.now();
          const there = await engine.verifySource(text, file, { agent: remote, ...options });
          if (round === 1) time.remote += performance.now() - started;
          assert.deepEqual(summary(there), summary(here), name);
          if (round === 0 && !here.ok) rejected += 1;
        }
      }
      assert.ok(rejected >= 5, 'the set has rejections to compare');
      t.diagnostic(`verifySource over ${VERIFY_FIXTURES.length} files (warm agents): local ${time.local.toFixed(0)} ms, remote ${time.remote.toFixed(0)} ms (ratio ${(time.remote / time.local).toFixed(2)})`);
    } finally {
      local.dispose();
    }
  });

  test('agent/kfuncs: the node lists its kernel\'s kfuncs itself, so kilobytes cross the connection instead of its BTF', async (t) => {
    if (!requireKernel(t)) return;
    const c = await connect('east-1');
    const agent = await c.agent();
    const received = c.bytes().received;
    const started = performance.now();
    const kfuncs = await agent.kfuncs();
    const firstMs = performance.now() - started;
    const wire = c.bytes().received - received;
    assert.deepEqual(kfuncs, readKernelKfuncs(), 'the same kernel, the same list');
    const btfBytes = statSync(VMLINUX_BTF).size;
    assert.ok(wire < btfBytes / 20, `${wire} bytes received for the list, the BTF has ${btfBytes}`);
    const again = performance.now();
    await agent.kfuncs();
    t.diagnostic(`${kfuncs.kfuncs.length} kfuncs: ${wire} bytes received (the BTF is ${btfBytes} bytes, ${Math.ceil(btfBytes / 3) * 4} in base64), first answer ${firstMs.toFixed(0)} ms (BTF parsed in a worker), again ${(performance.now() - again).toFixed(0)} ms`);
  });

  test('output of shell start-up files never reaches the protocol', async (t) => {
    if (!requireKernel(t)) return;
    const bashrc = join(nodes!.node('east-1').rootHome, '.bashrc');
    writeFileSync(bashrc, 'echo "Welcome to east-1"\nprintf "Content-Length: 99\\r\\n\\r\\n{"\n');
    try {
      const connection = await connect('east-1');
      assert.match(connection.info.shellNoise, /^Welcome to east-1\nContent-Length: 99\r\n\r\n\{/);
      const info = await (await connection.agent()).info();
      assert.deepEqual(info.problems, []);
    } finally {
      rmSync(bashrc);
    }
  });

  test('one connection carries everything: concurrent requests on the agent channel, exec channels within MaxSessions', async (t) => {
    if (!requireKernel(t)) return;
    const connection = await connect('east-1');
    const agent = await connection.agent();
    const infos = await Promise.all(Array.from({ length: 50 }, () => agent.info()));
    assert.equal(new Set(infos.map((i) => i.hostname)).size, 1);
    const runs = await Promise.all(Array.from({ length: 25 }, (_, i) => connection.ssh.run(`echo ${i}`)));
    assert.deepEqual(runs.map((r) => r.stdout.trim()), Array.from({ length: 25 }, (_, i) => String(i)), 'more execs than MaxSessions (10) queue for a slot');
    const started = performance.now();
    for (let i = 0; i < 20; i++) await agent.info();
    t.diagnostic(`agent/info round trip over SSH: ${((performance.now() - started) / 20).toFixed(2)} ms`);
  });

  test('an interrupted upload is never run, and the next bootstrap completes it', async (t) => {
    if (!requireKernel(t)) return;
    const hash = loadAgentPayload().hash;
    let interrupted: NodeConnection | undefined;
    let cut = false;
    interrupted = await connect('east-2', {
      onUploadProgress: (bytes) => {
        if (!cut && bytes > 200_000) {
          cut = true;
          interrupted!.ssh.destroy();
        }
      },
    });
    await assert.rejects(interrupted.agent());
    assert.ok(cut, 'the connection was cut mid-upload');
    const dir = join(nodes!.node('east-2').rootHome, '.cache', 'ebpf-studio', hash);
    assert.ok(existsSync(dir) && !existsSync(join(dir, '.complete')), 'half an upload, no completion marker');

    const retry = await connect('east-2');
    assert.equal(retry.info.payload, 'partial');
    const start = await retry.ssh.run(bootstrapCommand('start', hash, NODE_RUNTIME_VERSION, false));
    assert.equal(start.code, START_EXIT.incompletePayload, 'the start action refuses a payload without its marker');
    assert.match(start.stderr, /is incomplete/);
    assert.equal(start.stdout, '', 'nothing was started');

    const info = await (await retry.agent()).info();
    assert.equal(info.nodeVersion, process.version);
    assert.equal(retry.timings.bootstrap!.fresh, true);
    assert.deepEqual(filesUnder(dir).filter((f) => /\.part-/.test(f)), [], 'no temporary files are left');
  });
});
