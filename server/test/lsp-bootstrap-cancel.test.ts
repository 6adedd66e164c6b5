/**
 * The language server bootstrapping a node without Node.js over a slow management link (tbf inside the
 * node's namespace): listing nodes uploads nothing, verifyOn reports the upload's progress, a cancel
 * stops the upload and answers the request as cancelled, and the next verifyOn uploads the runtime whole.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { createTestNodes, kernelAvailable, requireKernel, type TestNode, type TestNodes } from '@ebpf-studio/test-support';
import { NODE_RUNTIME_VERSION } from '@ebpf-studio/remote-agent';
import { CancellationTokenSource, LSPErrorCodes, WorkDoneProgress, type ResponseError } from 'vscode-languageserver-protocol/node';
import { StudioMethods, type NodeSummary, type VerifyOnResult } from '../src/lsp/studio-protocol';
import { LspSession } from './lsp-session';

const ROOT = join(__dirname, '..', '..', '..');
const NODE = 'slow-1';
/** The management link's limit while the upload is to be cancelled: the runtime would take ≈ 20 s. */
const SLOW_BYTES_PER_SECOND = 2_000_000;
/** Cancel once the progress shows this much of the runtime sent. */
const CANCEL_AT_MB = 2;
const UPLOAD = /^uploading (the agent|the Node runtime) (\d+\.\d)\/(\d+\.\d) MB$/;

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

async function until<T>(probe: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what()} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('verify on a node without Node.js over a slow link: progress, cancel, a whole upload next time (real sshd, real kernel)', () => {
  let nodes: TestNodes | undefined;
  before(async () => {
    if (!kernelAvailable()) return;
    if (!existsSync(join(ROOT, 'dist', 'agent.js'))) spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.js')], { stdio: 'inherit' });
    nodes = await createTestNodes({ clusters: { south: [NODE] }, hideNode: [NODE] });
  });
  after(() => nodes?.remove());

  const start = async (): Promise<LspSession> => {
    const s = new LspSession();
    await s.initialize({ debounceMs: 0, inventory: nodes!.inventory, sshConfig: nodes!.sshConfig });
    return s;
  };
  const cacheOf = (node: TestNode): string => join(node.rootHome, '.cache', 'ebpf-studio');
  const parts = (node: TestNode): { path: string; bytes: number }[] => filesUnder(cacheOf(node)).filter((f) => /\.part-/.test(f)).map((path) => ({ path, bytes: statSync(path).size }));

  test('listing nodes uploads nothing: a bare node is listed with the kernel its probe found, agent not installed', async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node(NODE);
    rmSync(cacheOf(node), { recursive: true, force: true });
    const s = await start();
    try {
      const listed = ((await s.connection.sendRequest(StudioMethods.nodes, {})) as NodeSummary[]).find((n) => n.name === NODE);
      assert.equal(listed?.reachable, true, listed?.error);
      assert.equal(listed.kernel, node.exec('uname', ['-r']).trim());
      assert.equal(listed.agentInstalled, false);
      assert.deepEqual(filesUnder(cacheOf(node)), [], 'nothing was uploaded');
    } finally {
      await s.dispose();
    }
  });

  test('verifyOn shows the upload as it goes; cancel stops it and answers cancelled; the next verifyOn removes the part, uploads the runtime whole and verifies', async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node(NODE);
    const kernel = node.exec('uname', ['-r']).trim();
    rmSync(cacheOf(node), { recursive: true, force: true });
    const s = await start();
    node.limitManagementIngress(SLOW_BYTES_PER_SECOND);
    let limited = true;
    try {
      const uri = s.open(join(ROOT, 'remote-agent', 'test', 'data', 'xdp-count.bpf.c'));
      const messages: string[] = [];
      const cancel = new CancellationTokenSource();
      let cancelledAt = 0;
      let cancelledMb = 0;
      const workDoneToken = 'verify-slow-1';
      s.connection.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
        if (value.kind === 'end' || !value.message) return;
        messages.push(value.message);
        const m = UPLOAD.exec(value.message);
        if (m?.[1] === 'the Node runtime' && Number(m[2]) >= CANCEL_AT_MB && cancelledAt === 0) {
          cancelledAt = performance.now();
          cancelledMb = Number(m[2]);
          cancel.cancel();
        }
      });
      const verifying = s.connection.sendRequest(StudioMethods.verifyOn, { uri, targets: [NODE], workDoneToken }, cancel.token);
      const error = await verifying.then(
        () => assert.fail(`verifyOn answered instead of being cancelled; progress: ${JSON.stringify(messages)}`),
        (err: ResponseError) => err,
      );
      const answeredMs = performance.now() - cancelledAt;
      assert.equal(error.code, LSPErrorCodes.RequestCancelled, error.message);
      assert.ok(cancelledAt > 0);
      // the upload of the 43 MB runtime would take 20 s more at this rate; loose for busy CI cores
      assert.ok(answeredMs < 3000, `answered ${answeredMs.toFixed(0)} ms after the cancel`);
      assert.equal(messages[0], 'connecting over SSH');
      assert.ok(messages.some((m) => UPLOAD.exec(m)?.[1] === 'the agent'), `the agent's upload is shown: ${JSON.stringify(messages)}`);
      const runtime = messages.map((m) => UPLOAD.exec(m)).filter((m) => m?.[1] === 'the Node runtime');
      assert.ok(runtime.length >= 2 && runtime.every((m) => m![3] === runtime[0]![3]), `the runtime's upload is shown as it goes: ${JSON.stringify(messages)}`);

      const cancelLine = await until(() => s.logs.find((l) => l.includes(`${NODE}: bootstrap cancelled`)), 10_000, () => `no cancel line in the server's log: ${JSON.stringify(s.logs)}`);
      const loggedMs = performance.now() - cancelledAt;
      assert.match(cancelLine, /while uploading the Node runtime \(\d+\.\d of \d+\.\d MB sent\): the upload stopped/);
      const sftp = (): number[] => node.processes().filter((p) => p.command === 'sftp-server').map((p) => p.pid);
      await until(() => (sftp().length === 0 ? true : undefined), 5000, () => `sftp-server still runs on the node (${sftp().join(', ')})`);
      const half = parts(node);
      assert.equal(half.length, 1, `one partial runtime archive: ${JSON.stringify(half)}`);
      // The connection is reset: what the SFTP channel's window let be under way is not all delivered, and
      // nothing follows. The bound allows 3 s at the shaped rate between the cancel and the reset.
      assert.ok(half[0]!.bytes < cancelledMb * 1_000_000 + 3 * SLOW_BYTES_PER_SECOND, `the part holds ${half[0]!.bytes} bytes; ${cancelledMb} MB were reported sent when cancelled`);
      assert.ok(!existsSync(join(cacheOf(node), `node-v${NODE_RUNTIME_VERSION}-linux-x64`)), 'no runtime was unpacked');

      node.unlimitManagementIngress();
      limited = false;
      const result = (await s.connection.sendRequest(StudioMethods.verifyOn, { uri, targets: [NODE] })) as VerifyOnResult;
      assert.deepEqual(result.unreachable, []);
      const cell = result.programs.find((p) => p.name === 'count_packets')?.verdicts[NODE];
      assert.equal(cell?.verdict, 'accepted');
      assert.equal(cell.kernel, kernel);
      const removed = s.logs.find((l) => l.includes('removed what an interrupted upload left'));
      assert.ok(removed?.includes(`(${half[0]!.bytes} bytes)`), `the part is removed first: ${removed}`);
      const uploaded = s.logs.find((l) => l.includes(`uploaded and unpacked Node ${NODE_RUNTIME_VERSION}`));
      const size = Number(/\((\d+) bytes\)/.exec(uploaded ?? '')?.[1]);
      assert.ok(size > 40_000_000, `the whole runtime is uploaded: ${uploaded}`);
      assert.deepEqual(parts(node), [], 'no partial file is left');
      t.diagnostic(`progress: ${messages.length} reports, e.g. ${JSON.stringify(messages.slice(0, 2))} … ${JSON.stringify(messages.at(-1))}`);
      t.diagnostic(`cancel → answered cancelled ${answeredMs.toFixed(0)} ms, → "${cancelLine.replace(/:.*$/, '')}: bootstrap cancelled" logged ${loggedMs.toFixed(0)} ms; part left: ${half[0]!.bytes} bytes`);
      t.diagnostic(`retry: ${uploaded}`);
    } finally {
      if (limited) node.unlimitManagementIngress();
      await s.dispose();
    }
  });
});
