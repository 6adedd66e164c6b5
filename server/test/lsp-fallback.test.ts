import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CodeLens, Diagnostic } from 'vscode-languageserver-protocol';
import { createTestNodes, ensurePayloadBuilt, kernelAvailable, requireKernel, tempDir, type TestNodes } from '@ebpf-studio/test-support';
import { VerifyFallback } from '../src/lsp/studio-protocol';
import { defaultTarget, localProblem } from '../src/lsp/verify-targets';
import { LspSession } from './lsp-session';

const ROOT = join(__dirname, '..', '..', '..');
const FIXTURES = join(ROOT, 'server', 'test', 'fixtures', 'lsp');
const CLEAN = join(ROOT, 'examples', 'xdp-gateway-counter.bpf.c');
/** The server runs as nobody: no root, no CAP_BPF, no sudo — this machine's kernel cannot verify. */
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const errors = (ds: Diagnostic[]): Diagnostic[] => ds.filter((d) => d.severity === 1);
const fallbackNote = (ds: Diagnostic[]): Diagnostic | undefined => ds.find((d) => d.code === VerifyFallback.code);

/** A directory nobody can read (and list), holding copies of `files`. */
function readableDir(files: Record<string, string>): string {
  const dir = tempDir('ebpf-studio-fallback-');
  chmodSync(dir, 0o755);
  for (const [name, source] of Object.entries(files)) {
    copyFileSync(source, join(dir, name));
    chmodSync(join(dir, name), 0o644);
  }
  return dir;
}

describe('default verify target on a machine whose kernel cannot verify (server run as nobody)', () => {
  let nodes: TestNodes | undefined;
  before(async () => {
    if (!kernelAvailable()) return;
    await ensurePayloadBuilt();
    nodes = await createTestNodes({ clusters: { west: ['west-1'], east: ['east-1'] } });
    // The unprivileged server reads the harness's ssh files: the key (OpenSSH only refuses an open key
    // owned by the user itself; this one is root's), known_hosts, ssh_config and the inventory.
    for (const file of [nodes.userKey.privatePath, nodes.knownHosts, nodes.sshConfig, nodes.inventory]) chmodSync(file, 0o644);
  });
  after(() => nodes?.remove());

  test('falls back to the first node of the ebpf-studio.yaml found upwards, and a note on the file says so', async (t) => {
    if (!requireKernel(t)) return;
    const dir = readableDir({ 'ebpf-studio.yaml': nodes!.inventory, 'clean.bpf.c': CLEAN, 'null-deref.bpf.c': join(FIXTURES, 'null-deref.bpf.c') });
    const s = new LspSession(NOBODY);
    try {
      await s.initialize({ debounceMs: 0, sshConfig: nodes!.sshConfig });
      const clean = s.open(join(dir, 'clean.bpf.c'));
      const rejected = s.open(join(dir, 'null-deref.bpf.c'));
      const c = await s.diagnostics(clean, (p) => fallbackNote(p.diagnostics) !== undefined, 0, 90_000);
      const note = fallbackNote(c.diagnostics)!;
      assert.equal(note.severity, 3, 'an information note');
      assert.equal(note.source, 'ebpf-studio', 'the studio says where it verified, not libbpf');
      assert.match(String(note.message), VerifyFallback.note);
      assert.equal(VerifyFallback.note.exec(String(note.message))![1], 'west-1', 'the first node of the inventory');
      assert.match(String(note.message), /sudo|root|CAP_BPF/, 'says why');
      assert.match(String(note.message), /ebpfStudio\.verifyTarget/, 'says how to change it');
      assert.ok(String(note.message).includes(join(dir, 'ebpf-studio.yaml')), 'names the inventory it found');
      assert.deepEqual(errors(c.diagnostics), [], 'the node\'s kernel accepts the clean program');
      const lenses = (await s.connection.sendRequest('textDocument/codeLens', { textDocument: { uri: clean } })) as CodeLens[];
      assert.match(lenses[0]!.command!.title, /^✓ accepted .* · kernel \d+\.\d+$/);

      const r = await s.diagnostics(rejected, (p) => errors(p.diagnostics).length > 0, 0, 60_000);
      assert.deepEqual(errors(r.diagnostics).map((d) => [d.code, d.range.start.line + 1]), [['BPF-NULL-DEREF', 24]], 'the node\'s verifier rejects it');
      assert.ok(fallbackNote(r.diagnostics));
      await new Promise((res) => setTimeout(res, 300));
      assert.deepEqual(s.messages.filter((m) => m.type <= 2), [], 'no warning: the client tells the user once, from the note');
    } finally {
      await s.dispose();
    }
  });

  test('the inventory setting names the file to fall back with', async (t) => {
    if (!requireKernel(t)) return;
    const dir = readableDir({ 'clean.bpf.c': CLEAN });
    const s = new LspSession(NOBODY);
    try {
      await s.initialize({ debounceMs: 0, inventory: nodes!.inventory, sshConfig: nodes!.sshConfig });
      const uri = s.open(join(dir, 'clean.bpf.c'));
      const p = await s.diagnostics(uri, (x) => fallbackNote(x.diagnostics) !== undefined, 0, 90_000);
      assert.equal(VerifyFallback.note.exec(String(fallbackNote(p.diagnostics)!.message))![1], 'west-1');
      assert.deepEqual(errors(p.diagnostics), []);
    } finally {
      await s.dispose();
    }
  });

  test('an explicitly named target is used as is: no fallback', async (t) => {
    if (!requireKernel(t)) return;
    const dir = readableDir({ 'ebpf-studio.yaml': nodes!.inventory, 'clean.bpf.c': CLEAN });
    const s = new LspSession(NOBODY);
    try {
      await s.initialize({ debounceMs: 0, verifyTarget: ['east-1'], sshConfig: nodes!.sshConfig });
      const uri = s.open(join(dir, 'clean.bpf.c'));
      const p = await s.diagnostics(uri, () => true, 0, 90_000);
      assert.equal(fallbackNote(p.diagnostics), undefined);
      assert.deepEqual(errors(p.diagnostics), []);
    } finally {
      await s.dispose();
    }
  });

  test('without any node: the file\'s diagnostic and one warning name the fix', async (t) => {
    if (!requireKernel(t)) return;
    const dir = readableDir({ 'clean.bpf.c': CLEAN });
    const s = new LspSession(NOBODY);
    try {
      await s.initialize({ debounceMs: 0 });
      const uri = s.open(join(dir, 'clean.bpf.c'));
      const p = await s.diagnostics(uri, (x) => x.diagnostics.length > 0);
      assert.equal(p.diagnostics.length, 1);
      assert.match(String(p.diagnostics[0]!.message), VerifyFallback.none);
      assert.match(String(p.diagnostics[0]!.message), /no ebpf-studio\.yaml found/);
      assert.match(String(p.diagnostics[0]!.message), /ebpfStudio\.verifyTarget/);
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(s.messages.filter((m) => m.type === 2).length, 1, 'one warning for the window');
    } finally {
      await s.dispose();
    }
  });
});

describe('default verify target: the decision', () => {
  const info = (problems: string[]) => ({ protocolVersion: 1, agentVersion: 'x', hostname: 'h', kernelRelease: '6.1', arch: 'x64', uid: 1000, nodeVersion: 'v20', problems, btf: true, interfaces: [] }) as unknown as Parameters<typeof localProblem>[0];

  test('a usable local kernel stays the target', () => {
    assert.deepEqual(defaultTarget(localProblem(info([])), '/nowhere/x.bpf.c', ''), { kind: 'local' });
  });

  test('problems or an agent that cannot start: the first node, else none', () => {
    const dir = tempDir();
    const yaml = join(dir, 'ebpf-studio.yaml');
    writeFileSync(yaml, 'clusters:\n  a:\n    nodes:\n      - name: a-1\n        ssh: root@10.0.0.1\n      - name: a-2\n        ssh: root@10.0.0.2\n');
    assert.deepEqual(defaultTarget(localProblem(info(['no kernel BTF at /sys/kernel/btf/vmlinux'])), join(dir, 'x.bpf.c'), ''), {
      kind: 'fallback', node: 'a-1', inventory: yaml, reason: 'no kernel BTF at /sys/kernel/btf/vmlinux',
    });
    assert.deepEqual(defaultTarget(localProblem(new Error('local agent: sudo refused')), '/nowhere/x.bpf.c', yaml), { kind: 'fallback', node: 'a-1', inventory: yaml, reason: 'sudo refused' });
    assert.equal(defaultTarget('no CAP_BPF', join(tempDir(), 'x.bpf.c'), '').kind, 'none');
  });
});
