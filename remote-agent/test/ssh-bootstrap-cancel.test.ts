/**
 * Cancelling a bootstrap onto a namespace node without Node.js (so the ≈43 MB runtime is uploaded):
 * the upload stops when the last caller waiting for it leaves (the connection is reset, so nothing
 * queued is sent), nothing half-uploaded is ever run, and the next connection's bootstrap removes the
 * partial file and uploads the runtime whole.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { createTestNodes, ensurePayloadBuilt, kernelAvailable, requireKernel, type TestNode, type TestNodes } from '@ebpf-studio/test-support';
import { connectNode, type NodeConnection } from '../src/controller/connect-node';
import { loadInventory, type Inventory } from '../src/controller/inventory';
import { loadAgentPayload, NODE_RUNTIME_VERSION, nodeRuntimeArchive } from '../src/controller/payload';
import { bootstrapCommand, START_EXIT } from '../src/controller/ssh/bootstrap-script';

const NODE = 'bare-1';
const MB = 1_000_000;
/** Where in the runtime's upload the bootstrap is cancelled. */
const CANCEL_AT = 8 * MB;
/**
 * What may still arrive after the cancel: writes sent but not yet acknowledged when it came, at most
 * the SFTP channel's window (2 MB with OpenSSH) and a chunk.
 */
const IN_FLIGHT = 2 * 1024 * 1024 + 32 * 1024;

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

const isAbort = (err: unknown): boolean => (err as Error).name === 'AbortError';

async function until(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what()} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('cancelling a bootstrap onto a namespace node without Node.js (real sshd)', () => {
  let nodes: TestNodes | undefined;
  let inventory: Inventory;
  let runtimeSize = 0;
  const open: NodeConnection[] = [];

  before(async () => {
    if (!kernelAvailable()) return;
    await ensurePayloadBuilt();
    runtimeSize = statSync(await nodeRuntimeArchive('x64')).size;
    nodes = await createTestNodes({ clusters: { south: [NODE] }, hideNode: [NODE] });
    inventory = loadInventory(nodes.inventory);
  });
  after(async () => {
    for (const c of open) await c.close();
    nodes?.remove();
  });

  const cacheOf = (node: TestNode): string => join(node.rootHome, '.cache', 'ebpf-studio');
  const partsOf = (node: TestNode): { path: string; bytes: number }[] => filesUnder(cacheOf(node)).filter((f) => /\.part-/.test(f)).map((path) => ({ path, bytes: statSync(path).size }));
  const sftpServers = (node: TestNode): number[] => node.processes().filter((p) => p.command === 'sftp-server').map((p) => p.pid);

  async function connect(log: string[]): Promise<NodeConnection> {
    const connection = await connectNode(NODE, { inventory, sshConfigFile: nodes!.sshConfig, agentSocket: null, log: (line) => log.push(line) });
    open.push(connection);
    return connection;
  }

  async function connectFresh(log: string[]): Promise<{ node: TestNode; connection: NodeConnection }> {
    const node = nodes!.node(NODE);
    rmSync(cacheOf(node), { recursive: true, force: true });
    return { node, connection: await connect(log) };
  }

  test('cancelled mid-runtime: the caller is released at once, the upload stops, nothing is run; the next connection removes the part and uploads the runtime whole', async (t) => {
    if (!requireKernel(t)) return;
    const log: string[] = [];
    const { node, connection } = await connectFresh(log);
    assert.equal(connection.info.nodePath, undefined, 'the node has no Node.js');
    const cancel = new AbortController();
    let cancelledAt = 0;
    let cancelledBytes = 0;
    const waiting = connection.agent({
      signal: cancel.signal,
      onProgress: (p) => {
        if (p.step !== 'upload' || p.what !== 'runtime' || p.bytes < CANCEL_AT || cancel.signal.aborted) return;
        cancelledBytes = p.bytes;
        cancelledAt = performance.now();
        cancel.abort();
      },
    });
    await assert.rejects(waiting, isAbort);
    const releasedMs = performance.now() - cancelledAt;
    assert.ok(cancelledAt > 0, 'the runtime upload was under way when cancelled');
    // at once: the upload still had seconds to go (the bound is loose for busy CI cores)
    assert.ok(releasedMs < 1000, `the caller is released at once (${releasedMs.toFixed(1)} ms)`);

    // The connection is reset: its SFTP server process on the node ends, so the partial file cannot grow.
    await until(() => sftpServers(node).length === 0, 5000, () => `sftp-server still runs on the node (pids ${sftpServers(node).join(', ')})`);
    const stoppedMs = performance.now() - cancelledAt;
    assert.match(log.find((l) => l.includes('bootstrap cancelled')) ?? '', /^bare-1: bootstrap cancelled while uploading the Node runtime \(\d+\.\d of \d+\.\d MB sent\): the upload stopped \(connection reset\)/);
    await until(() => connection.ssh.isClosed, 2000, () => 'the connection is still open');
    const parts = partsOf(node);
    assert.equal(parts.length, 1, `one partial file: ${JSON.stringify(parts)}`);
    const part = parts[0]!;
    assert.match(part.path, new RegExp(`/node-v${NODE_RUNTIME_VERSION}-linux-x64\\.tgz\\.part-[0-9a-f]{12}$`));
    assert.ok(part.bytes >= cancelledBytes && part.bytes <= cancelledBytes + IN_FLIGHT, `the part holds ${part.bytes} bytes: the ${cancelledBytes} acknowledged when cancelled, at most the channel's window more`);
    assert.ok(part.bytes < runtimeSize);
    assert.ok(!existsSync(join(cacheOf(node), `node-v${NODE_RUNTIME_VERSION}-linux-x64`)), 'no runtime directory');
    assert.ok(!existsSync(join(cacheOf(node), `node-v${NODE_RUNTIME_VERSION}-linux-x64.tgz`)), 'no runtime archive under its final name');
    const retry = await connect(log);
    assert.equal(retry.info.payload, 'complete', 'the agent was uploaded before the cancel');
    assert.equal(retry.info.runtime, 'missing');
    const start = await retry.ssh.run(bootstrapCommand('start', loadAgentPayload().hash, NODE_RUNTIME_VERSION, false));
    assert.equal(start.code, START_EXIT.noNode, `the start action finds no Node.js to run (${start.stderr.trim()})`);
    assert.equal(start.stdout, '', 'nothing was started');

    const info = await (await retry.agent()).info();
    assert.equal(info.nodeVersion, `v${NODE_RUNTIME_VERSION}`, 'the runtime uploaded afresh runs the agent');
    const report = retry.timings.bootstrap!;
    assert.equal(report.payloadBytes, 0, 'the agent, complete before the cancel, is not uploaded again');
    assert.equal(report.runtimeBytes, runtimeSize, 'the whole runtime is uploaded');
    const removed = log.find((l) => l.includes('removed what an interrupted upload left'));
    assert.ok(removed?.includes(`.tgz.part-`) && removed.includes(`(${part.bytes} bytes)`), `the part is removed first: ${removed}`);
    assert.deepEqual(partsOf(node), [], 'no partial file is left');
    t.diagnostic(`cancelled at ${(cancelledBytes / MB).toFixed(1)} of ${(runtimeSize / MB).toFixed(1)} MB: caller released in ${releasedMs.toFixed(1)} ms, upload stopped (sftp-server gone) ${stoppedMs.toFixed(0)} ms after the cancel, ${part.bytes - cancelledBytes} bytes arrived after it`);
    t.diagnostic(`next bootstrap: runtime ${report.runtimeBytes} bytes uploaded and unpacked in ${report.runtimeMs.toFixed(0)} ms`);
  });

  test('a caller that cancels leaves the bootstrap to the callers still waiting: one upload, completed', async (t) => {
    if (!requireKernel(t)) return;
    const log: string[] = [];
    const { node, connection } = await connectFresh(log);
    const cancel = new AbortController();
    const leaving = connection.agent({
      signal: cancel.signal,
      onProgress: (p) => {
        if (p.step === 'upload' && p.what === 'runtime' && p.bytes >= CANCEL_AT) cancel.abort();
      },
    });
    const staying = connection.agent();
    await assert.rejects(leaving, isAbort);
    const info = await (await staying).info();
    assert.equal(info.nodeVersion, `v${NODE_RUNTIME_VERSION}`);
    assert.equal(connection.timings.bootstrap!.runtimeBytes, runtimeSize);
    assert.deepEqual(log.filter((l) => /bootstrap cancelled|removed what an interrupted upload left/.test(l)), [], 'the bootstrap went on');
    assert.equal(log.filter((l) => l.includes(`uploaded and unpacked Node ${NODE_RUNTIME_VERSION}`)).length, 1, 'the runtime was uploaded once');
    assert.deepEqual(partsOf(node), []);
    t.diagnostic(`bootstrap with one caller gone: ${connection.timings.bootstrap!.totalMs.toFixed(0)} ms`);
  });

  test('cancelling a connect that hangs (the management link cut) releases the caller at once', async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node(NODE);
    node.cutManagement();
    try {
      const cancel = new AbortController();
      const connecting = connectNode(NODE, { inventory, sshConfigFile: nodes!.sshConfig, agentSocket: null, signal: cancel.signal });
      setTimeout(() => cancel.abort(), 300);
      const started = performance.now();
      await assert.rejects(connecting, isAbort);
      const waitedMs = performance.now() - started;
      // cancelled at 300 ms; the connect timeout (5 s) would end it only later
      assert.ok(waitedMs < 3000, `released ${waitedMs.toFixed(0)} ms after connecting started (the connect timeout is 5 s)`);
      t.diagnostic(`connect cancelled after ${waitedMs.toFixed(0)} ms`);
    } finally {
      node.restoreManagement();
    }
  });
});
