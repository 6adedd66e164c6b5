import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestNodes, ensurePayloadBuilt, eventually, kernelAvailable, requireKernel, type TestNodes } from '@ebpf-studio/test-support';

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'cli', 'bin', 'ebpf-studio.js');

describe('ebpf-studio against namespace nodes (real sshd)', () => {
  let nodes: TestNodes | undefined;
  let env: NodeJS.ProcessEnv = {};
  const run = (args: string[]): { code: number; out: string } => {
    const r = spawnSync(process.execPath, [BIN, ...args, '--config', nodes!.inventory, '--ssh-config', nodes!.sshConfig], { encoding: 'utf8', env, cwd: ROOT });
    return { code: r.status ?? -1, out: r.stdout + r.stderr };
  };
  before(async () => {
    if (!kernelAvailable()) return;
    await ensurePayloadBuilt();
    nodes = await createTestNodes({ clusters: { east: ['east-1'], west: ['west-1'] } });
    env = { ...process.env };
    delete env['SSH_AUTH_SOCK'];
  });
  after(() => nodes?.remove());

  test('nodes lists every node with its kernel', (t) => {
    if (!requireKernel(t)) return;
    const r = run(['nodes']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /✓ east\/east-1 \(.*\): kernel \d+\.\d+/);
    assert.match(r.out, /✓ west\/west-1 /);
  });

  test('verify --cluster and --node local: one verdict per target, diagnostics name where they hold', (t) => {
    if (!requireKernel(t)) return;
    const r = run(['verify', join(ROOT, 'examples', 'failover-unchecked.bpf.c'), '--cluster', 'east', '--node', 'west-1', '--node', 'local']);
    assert.equal(r.code, 1, r.out);
    const row = /^failover_connect4 \[SEC\("cgroup\/connect4"\)\]: (.*)$/m.exec(r.out)?.[1] ?? '';
    for (const target of ['local', 'east-1', 'west-1']) assert.match(row, new RegExp(`✗ ${target} \\(\\d+\\.\\d+[^)]*\\) BPF-NULL-DEREF`), row);
    assert.match(r.out, /:26:\d+: error: .*\[BPF-NULL-DEREF\]/);
  });

  test('--build-on-node compiles with the node\'s clang and gives the same diagnostic; odd clang arguments are refused there', (t) => {
    if (!requireKernel(t)) return;
    const file = join(ROOT, 'examples', 'failover-unchecked.bpf.c');
    const r = run(['verify', file, '--node', 'east-1', '--build-on-node']);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /:26:\d+: error: .*\[BPF-NULL-DEREF\]/);
    const refused = run(['verify', file, '--node', 'east-1', '--build-on-node', '--cflag=-Xclang']);
    assert.match(refused.out, /not accepted for a build on the node/);
  });

  test('an unreachable node is named; exit 2 when nothing was rejected', (t) => {
    if (!requireKernel(t)) return;
    const r = run(['verify', join(ROOT, 'examples', 'xdp-gateway-counter.bpf.c'), '--node', 'east-1', '--node', 'root@127.0.0.1:1']);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /✓ east-1/);
    assert.match(r.out, /– root@127\.0\.0\.1:1: not reached: .*(refused|ECONNREFUSED)/i);
  });

  test('attach --node: live stats from the node until Ctrl-C, then nothing is left there', { timeout: 60_000 }, async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node('east-1');
    const child = spawn(process.execPath, [BIN, 'attach', join(ROOT, 'remote-agent', 'test', 'data', 'xdp-count.bpf.c'), '--node', 'east-1', '--to', node.dataIfname, '--config', nodes!.inventory, '--ssh-config', nodes!.sshConfig], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const started = Date.now();
      while (!/attached count_packets/.test(out) && Date.now() - started < 20_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /attached count_packets .* on east-1/);
      nodes!.clusterNetns['east']!.exec('ping', ['-c', '4', '-i', '0.2', '-W', '1', node.dataAddress]);
      // the stats line is printed every second
      const lastRuns = (): number => Number([...out.matchAll(/count_packets: (\d+) runs/g)].at(-1)?.[1] ?? 0);
      assert.ok(await eventually(() => lastRuns() >= 4, 10_000), `stats show the packets: ${out}`);
      child.kill('SIGINT');
      assert.equal(await exited, 0, out);
      assert.equal(JSON.parse(node.exec('bpftool', ['-j', 'net', 'show']))[0]?.xdp?.length ?? 0, 0, 'no XDP left on the node');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
