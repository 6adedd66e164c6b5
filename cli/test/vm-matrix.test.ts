/**
 * `ebpf-studio verify` with one verdict per kernel: this machine and a QEMU VM with Debian's 6.1 kernel,
 * named `legacy-1` in the `legacy` cluster of a generated ebpf-studio.yaml and reached through the VM's
 * own ssh config. The VM is stopped in `after`, also when a test fails.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { kernelAvailable, requireKernel, startVm, tempDir, type VmNode } from '@ebpf-studio/test-support';

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'cli', 'bin', 'ebpf-studio.js');
const FIXTURE = join(ROOT, 'server', 'test', 'fixtures', 'kernel-matrix', 'xdp-config-const-key.bpf.c');

/** The fixture's `// kernel<X.Y: expect CODE` line (format: the fixture directory's README). */
function expectedRejection(): { line: number; code: string } {
  const lines = readFileSync(FIXTURE, 'utf8').split('\n');
  const index = lines.findIndex((l) => /\/\/\s*kernel<\d+\.\d+:\s*expect\s+[A-Z]/.test(l));
  assert.ok(index >= 0, 'the fixture declares its rejection');
  return { line: index + 1, code: /expect\s+([A-Z][A-Z0-9-]+)/.exec(lines[index]!)![1]! };
}

interface MatrixJson {
  programs: { name: string; verdicts: Record<string, { verdict: string; kernel: string; code?: string }> }[];
  diagnostics: { line: number; code: string; message: string; nodes: string[] }[];
  unreachable: unknown[];
}

describe('ebpf-studio verify on this machine and a 6.1 VM node side by side', { timeout: 10 * 60_000 }, () => {
  let vm: VmNode | undefined;
  let config = '';
  let env: NodeJS.ProcessEnv = {};
  const localKernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();

  before(async () => {
    if (!kernelAvailable()) return;
    if (!existsSync(join(ROOT, 'dist', 'agent.js'))) execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.js')], { stdio: 'ignore' });
    vm = await startVm({ name: 'legacy' });
    config = join(tempDir(), 'ebpf-studio.yaml');
    writeFileSync(config, ['clusters:', '  legacy:', '    nodes:', '      - name: legacy-1', `        ssh: ${vm.name}`, ''].join('\n'));
    env = { ...process.env };
    delete env['SSH_AUTH_SOCK'];
  });
  after(async () => {
    await vm?.stop();
  });

  function cli(args: string[]): Promise<{ code: number; out: string; ms: number }> {
    const started = performance.now();
    return new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args, '--config', config, '--ssh-config', vm!.sshConfigFile], { cwd: ROOT, env, timeout: 5 * 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, out: stdout + stderr, ms: performance.now() - started });
      });
    });
  }

  test('verify --node local --node legacy-1: ✓ on this kernel, ✗ on 6.1 with the code, the diagnostic says where it holds', async (t) => {
    if (!requireKernel(t)) return;
    const expected = expectedRejection();
    const r = await cli(['verify', FIXTURE, '--node', 'local', '--node', 'legacy-1']);
    assert.equal(r.code, 1, r.out);
    const row = /^gateway_switch \[SEC\("xdp"\)\]: (.*)$/m.exec(r.out)?.[1] ?? '';
    const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(row, new RegExp(`^✓ local \\(${esc(localKernel)}\\) · ✗ legacy-1 \\(${esc(vm!.kernelRelease)}\\) ${expected.code}$`), r.out);
    assert.match(localKernel, /^6\.18\./);
    assert.match(vm!.kernelRelease, /^6\.1\./);
    const where = `${esc(relative(ROOT, FIXTURE))}:${expected.line}:\\d+: error: `;
    assert.match(r.out, new RegExp(`^${where}.*map_value_or_null.* \\(kernel ${esc(vm!.kernelRelease)} only\\) \\[${expected.code}\\] \\(legacy-1, kernel ${esc(vm!.kernelRelease)}\\)$`, 'm'), r.out);
    t.diagnostic(row);
    t.diagnostic(`first run (bootstraps the bare VM: Node runtime + agent): ${(r.ms / 1000).toFixed(1)} s`);
  });

  test('verify --cluster legacy --node local --json: the matrix as data', async (t) => {
    if (!requireKernel(t)) return;
    const expected = expectedRejection();
    const r = await cli(['verify', FIXTURE, '--cluster', 'legacy', '--node', 'local', '--json']);
    assert.equal(r.code, 1, r.out);
    const matrix = JSON.parse(r.out) as MatrixJson;
    assert.deepEqual(matrix.unreachable, []);
    const verdicts = matrix.programs.find((p) => p.name === 'gateway_switch')?.verdicts;
    assert.deepEqual(verdicts?.['local'], { verdict: 'accepted', kernel: localKernel });
    assert.deepEqual(verdicts?.['legacy-1'], { verdict: 'rejected', kernel: vm!.kernelRelease, code: expected.code });
    assert.equal(matrix.diagnostics.length, 1, r.out);
    const [d] = matrix.diagnostics as [MatrixJson['diagnostics'][number]];
    assert.deepEqual([d.line, d.code, d.nodes], [expected.line, expected.code, ['legacy-1']]);
    assert.ok(d.message.endsWith(`(kernel ${vm!.kernelRelease} only)`), d.message);
    t.diagnostic(`warm run: ${(r.ms / 1000).toFixed(1)} s`);
  });
});
