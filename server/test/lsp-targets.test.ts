import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CodeLens, Diagnostic } from 'vscode-languageserver-protocol';
import { createTestNodes, ensurePayloadBuilt, kernelAvailable, requireKernel, type TestNodes } from '@ebpf-studio/test-support';
import { LspSession } from './lsp-session';

const ROOT = join(__dirname, '..', '..', '..');
const FIXTURE = join(ROOT, 'server', 'test', 'fixtures', 'lsp', 'null-deref.bpf.c');
const errors = (ds: Diagnostic[]): Diagnostic[] => ds.filter((d) => d.severity === 1);

describe('language server with several verify targets (this machine and a namespace node over SSH)', () => {
  let nodes: TestNodes | undefined;
  before(async () => {
    if (!kernelAvailable()) return;
    await ensurePayloadBuilt();
    nodes = await createTestNodes({ clusters: { east: ['east-1'] } });
  });
  after(() => nodes?.remove());

  test('one diagnostic where all kernels agree, and a CodeLens with every target\'s verdict', async (t) => {
    if (!requireKernel(t)) return;
    const s = new LspSession();
    try {
      await s.initialize({ debounceMs: 0, verifyTarget: ['local', 'east-1'], inventory: nodes!.inventory, sshConfig: nodes!.sshConfig });
      const uri = s.open(FIXTURE);
      const published = await s.diagnostics(uri, (p) => errors(p.diagnostics).length > 0, 0, 60_000);
      assert.deepEqual(errors(published.diagnostics).map((d) => [d.code, d.range.start.line + 1]), [['BPF-NULL-DEREF', 24]]);
      const lenses = (await s.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as CodeLens[];
      assert.match(lenses[0]!.command!.title, /^✗ local \d+\.\d+ BPF-NULL-DEREF · ✗ east-1 \d+\.\d+ BPF-NULL-DEREF$/);
    } finally {
      await s.dispose();
    }
  });

  test('an unreachable target is one warning; the reachable one still verifies', async (t) => {
    if (!requireKernel(t)) return;
    const s = new LspSession();
    try {
      await s.initialize({ debounceMs: 0, verifyTarget: ['local', 'root@127.0.0.1:1'], inventory: nodes!.inventory, sshConfig: nodes!.sshConfig });
      const uri = s.open(FIXTURE);
      const published = await s.diagnostics(uri, (p) => errors(p.diagnostics).length > 0, 0, 60_000);
      const warning = published.diagnostics.find((d) => d.code === 'EBPF-STUDIO-TARGET-UNREACHABLE');
      assert.match(String(warning?.message), /Not verified on root@127\.0\.0\.1:1/);
      assert.equal(errors(published.diagnostics)[0]!.code, 'BPF-NULL-DEREF');
    } finally {
      await s.dispose();
    }
  });
});
