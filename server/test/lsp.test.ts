import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CodeAction, CodeLens, Diagnostic } from 'vscode-languageserver-protocol';
import { kernelAvailable, requireKernel, tempDir } from '@ebpf-studio/test-support';
import { readFixture } from './fixture-spec';
import { LspSession } from './lsp-session';

const FIXTURES = join(__dirname, '..', '..', 'test', 'fixtures', 'lsp');
const errorsOf = (diagnostics: Diagnostic[]): Diagnostic[] => diagnostics.filter((d) => d.severity === 1);

describe('language server over stdio (real kernel)', () => {
  let session: LspSession | undefined;
  before(async () => {
    if (!kernelAvailable()) return;
    session = new LspSession();
    await session.initialize({ debounceMs: 0 });
  });
  after(async () => session?.dispose());

  for (const name of ['null-deref', 'null-ctx-sock', 'small-key', 'packet-bounds', 'gpl-only', 'uninit-key', 'clamp-index']) {
    test(`${name}: the diagnostic is on the expected line, and its quick fix makes the verifier accept`, async (t) => {
      if (!requireKernel(t)) return;
      const path = join(FIXTURES, `${name}.bpf.c`);
      const spec = readFixture(path);
      const s = session!;
      if (spec.caps) {
        await s.connection.sendNotification('workspace/didChangeConfiguration', { settings: { ebpfStudio: { debounceMs: 0, caps: spec.caps } } });
      }
      try {
        const uri = s.open(path);
        const published = await s.diagnostics(uri, (p) => errorsOf(p.diagnostics).length > 0);
        const [diagnostic] = errorsOf(published.diagnostics);
        const expected = spec.expects[0]!;
        assert.equal(diagnostic!.code, expected.code);
        assert.equal(diagnostic!.range.start.line + 1, expected.line);
        assert.match(String(diagnostic!.message), /\nFix: /, 'the message explains and names the fix');

        const lenses = (await s.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as CodeLens[];
        assert.match(lenses[0]!.command!.title, new RegExp(`^✗ rejected: ${expected.code}`));
        const log = (await s.connection.sendRequest('ebpfStudio/verifierLog', { uri, program: lenses[0]!.command!.arguments![1] })) as string;
        assert.match(log, /processed \d+ insns/);

        const actions = (await s.connection.sendRequest('textDocument/codeAction', {
          textDocument: { uri },
          range: diagnostic!.range,
          context: { diagnostics: [diagnostic] },
        })) as CodeAction[];
        assert.ok(actions.length > 0, 'a quick fix is offered');
        const action = actions[0]!;
        const doc = TextDocument.create(uri, 'c', 1, spec.text);
        const fixed = TextDocument.applyEdits(doc, action.edit!.changes![uri]!);
        const from = s.published.length;
        const version = s.change(uri, fixed);
        const after = await s.diagnostics(uri, (p) => p.version === version, from);
        assert.deepEqual(errorsOf(after.diagnostics), [], `after "${action.title}":\n${fixed}`);
        const accepted = (await s.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as CodeLens[];
        assert.match(accepted[0]!.command!.title, /^✓ accepted · \d+ insns/);
        const closedFrom = s.published.length;
        s.close(uri);
        const cleared = await s.diagnostics(uri, () => true, closedFrom);
        assert.deepEqual(cleared.diagnostics, [], 'closing clears the diagnostics');
      } finally {
        if (spec.caps) await s.connection.sendNotification('workspace/didChangeConfiguration', { settings: { ebpfStudio: { debounceMs: 0 } } });
      }
    });
  }

  test('a CodeLens request made while the file verifies is answered with its verdict, after opening and after an edit', async (t) => {
    if (!requireKernel(t)) return;
    const s = session!;
    const path = join(FIXTURES, 'null-deref.bpf.c');
    const spec = readFixture(path);
    const uri = s.open(path);
    try {
      // asked before the first verification ends: no empty answer to be refreshed later
      const lenses = (await s.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as CodeLens[];
      assert.match(lenses[0]?.command?.title ?? 'no lens', new RegExp(`^✗ rejected: ${spec.expects[0]!.code}`));
      // the fix typed in: the lens asked right after the edit shows the new verdict, not the old one
      const published = await s.diagnostics(uri, (p) => errorsOf(p.diagnostics).length > 0);
      const [diagnostic] = errorsOf(published.diagnostics);
      const actions = (await s.connection.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: diagnostic!.range, context: { diagnostics: [diagnostic] } })) as CodeAction[];
      s.change(uri, TextDocument.applyEdits(TextDocument.create(uri, 'c', 1, spec.text), actions[0]!.edit!.changes![uri]!));
      const after = (await s.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as CodeLens[];
      assert.match(after[0]?.command?.title ?? 'no lens', /^✓ accepted/);
    } finally {
      s.close(uri);
    }
  });

  test('50 edits within a second give exactly one verification, of the final text', async (t) => {
    if (!requireKernel(t)) return;
    const s = session!;
    await s.connection.sendNotification('workspace/didChangeConfiguration', { settings: { ebpfStudio: { debounceMs: 300 } } });
    try {
      const dir = tempDir();
      const path = join(dir, 'typing.bpf.c');
      const original = readFileSync(join(FIXTURES, 'null-deref.bpf.c'), 'utf8');
      writeFileSync(path, original);
      const uri = s.open(path);
      await s.diagnostics(uri);
      const from = s.published.length;
      let version = 0;
      let text = original;
      for (let i = 0; i < 50; i++) {
        text = original.replace('return 1;\n}', `return 1; /* edit ${i} */\n}`);
        if (i === 49) text = text.replace('ctx->user_ip4 = be->addr; // expect: BPF-NULL-DEREF', 'if (!be)\n\t\treturn 1;\n\tctx->user_ip4 = be->addr;');
        version = s.change(uri, text);
        await new Promise((r) => setTimeout(r, 18));
      }
      const final = await s.diagnostics(uri, () => true, from);
      assert.equal(final.version, version, 'the one publication is for the final version');
      assert.deepEqual(errorsOf(final.diagnostics), []);
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(s.published.slice(from).filter((p) => p.uri === uri).length, 1, 'exactly one publication');
      s.close(uri);
    } finally {
      await s.connection.sendNotification('workspace/didChangeConfiguration', { settings: { ebpfStudio: { debounceMs: 0 } } });
    }
  });

  test('an edited header re-verifies the file that includes it', async (t) => {
    if (!requireKernel(t)) return;
    const s = session!;
    const dir = tempDir();
    mkdirSync(join(dir, 'include'));
    const header = join(dir, 'include', 'limits.h');
    writeFileSync(header, '#define STATS_SLOTS 8\n');
    const path = join(dir, 'uses-header.bpf.c');
    copyFileSync(join(FIXTURES, 'clamp-index.bpf.c'), path);
    const text = readFileSync(path, 'utf8')
      .replace('#include <bpf/bpf_helpers.h>', '#include <bpf/bpf_helpers.h>\n#include "include/limits.h"')
      .replace('__u32 cluster = ctx->user_ip4 >> 24;', '__u32 cluster = ctx->user_ip4 & (STATS_SLOTS - 1);');
    const uri = s.open(path, text);
    const first = await s.diagnostics(uri);
    assert.deepEqual(errorsOf(first.diagnostics), [], 'STATS_SLOTS 8 keeps the index inside the array');
    const from = s.published.length;
    writeFileSync(header, '#define STATS_SLOTS 64\n');
    await s.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: s.uriOf(header), type: 2 }] });
    const second = await s.diagnostics(uri, (p) => errorsOf(p.diagnostics).length > 0, from);
    assert.equal(errorsOf(second.diagnostics)[0]!.code, 'BPF-MAP-VALUE-OOB');
    s.close(uri);
  });

  test('re-opening a closed document publishes its diagnostics again', async (t) => {
    if (!requireKernel(t)) return;
    const s = session!;
    const path = join(FIXTURES, 'null-deref.bpf.c');
    const uri = s.open(path);
    await s.diagnostics(uri, (p) => errorsOf(p.diagnostics).length > 0);
    s.close(uri);
    const from = s.published.length;
    s.open(path);
    const again = await s.diagnostics(uri, (p) => errorsOf(p.diagnostics).length > 0, from);
    assert.equal(errorsOf(again.diagnostics)[0]!.code, 'BPF-NULL-DEREF');
    s.close(uri);
  });
});
