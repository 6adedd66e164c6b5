import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CodeAction, CodeLens, Diagnostic } from 'vscode-languageserver-protocol';
import { requireKernel } from '@ebpf-studio/test-support';
import { SourceText } from '../src/engine/source-text';
import { quickFixesFor } from '../src/lsp/features/quick-fixes';
import { readFixture } from './fixture-spec';
import { LspSession } from './lsp-session';

const FIXTURE = join(__dirname, '..', '..', 'test', 'fixtures', 'verify', 'xdp-legacy-map-def.bpf.c');
const errorsOf = (diagnostics: Diagnostic[]): Diagnostic[] => diagnostics.filter((d) => d.severity === 1);

test('a legacy SEC("maps") definition: the quick fix declares the BTF-defined map and the program then loads (real kernel)', async (t) => {
  if (!requireKernel(t)) return;
  const spec = readFixture(FIXTURE);
  const s = new LspSession();
  try {
    await s.initialize({ debounceMs: 0 });
    const uri = s.open(FIXTURE);
    const [diagnostic] = errorsOf((await s.diagnostics(uri, (p) => errorsOf(p.diagnostics).length > 0)).diagnostics);
    assert.equal(diagnostic!.code, 'LIBBPF-LEGACY-MAPS');
    assert.equal(diagnostic!.range.start.line + 1, spec.expects[0]!.line);
    const actions = (await s.connection.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: diagnostic!.range, context: { diagnostics: [diagnostic] } })) as CodeAction[];
    const action = actions.find((a) => /BTF-defined map/.test(a.title));
    assert.ok(action, JSON.stringify(actions.map((a) => a.title)));
    const fixed = TextDocument.applyEdits(TextDocument.create(uri, 'c', 1, spec.text), action.edit!.changes![uri]!);
    assert.match(fixed, /struct \{\n\t__uint\(type, BPF_MAP_TYPE_ARRAY\);\n\t__type\(key, __u32\);\n\t__type\(value, __u64\);\n\t__uint\(max_entries, 4\);\n\} counters SEC\("\.maps"\);\n/);
    const from = s.published.length;
    const version = s.change(uri, fixed);
    const after = await s.diagnostics(uri, (p) => p.version === version, from);
    assert.deepEqual(errorsOf(after.diagnostics), [], `after "${action.title}":\n${fixed}`);
    const lenses = (await s.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as CodeLens[];
    assert.match(lenses[0]!.command!.title, /^✓ accepted · \d+ insns/);
  } finally {
    await s.dispose();
  }
});

test('iproute2\'s field names convert too; a definition with pinning gets no fix rather than losing it', () => {
  const iproute2 = new SourceText(['struct bpf_elf_map counters __section("maps") = {', '    .type = BPF_MAP_TYPE_HASH,', '    .size_key = 4,', '    .size_value = sizeof(struct stats), .max_elem = 1024,', '};'].join('\n'));
  const [fix] = quickFixesFor({ source: iproute2, line: 1, code: 'LIBBPF-LEGACY-MAPS', related: [] });
  assert.ok(fix);
  assert.equal(fix.edits[0]!.newText, 'struct {\n    __uint(type, BPF_MAP_TYPE_HASH);\n    __uint(key_size, 4);\n    __type(value, struct stats);\n    __uint(max_entries, 1024);\n} counters SEC(".maps");');
  assert.deepEqual(fix.edits[0]!.range, { start: { line: 0, character: 0 }, end: { line: 4, character: 2 } });
  const pinned = new SourceText(['struct bpf_elf_map __section("maps") counters = {', '\t.type = BPF_MAP_TYPE_HASH, .size_key = 4, .size_value = 8, .max_elem = 8, .pinning = PIN_GLOBAL_NS,', '};'].join('\n'));
  assert.deepEqual(quickFixesFor({ source: pinned, line: 1, code: 'LIBBPF-LEGACY-MAPS', related: [] }), []);
});
