import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CompletionItem, Hover, MarkupContent, SignatureHelp } from 'vscode-languageserver-protocol';
import { kernelAvailable, requireKernel } from '@ebpf-studio/test-support';
import { LspSession } from './lsp-session';

const FILE = join(__dirname, '..', '..', 'test', 'fixtures', 'lsp', 'two-types.bpf.c');
const TEXT = readFileSync(FILE, 'utf8');
const LINES = TEXT.split('\n');

function positionOf(needle: string, offset = 0): { line: number; character: number } {
  const line = LINES.findIndex((l) => l.includes(needle));
  assert.ok(line >= 0, needle);
  return { line, character: LINES[line]!.indexOf(needle) + offset };
}

describe('hover, completion and signature help (real kernel, installed libbpf headers)', () => {
  let s: LspSession | undefined;
  let uri = '';
  before(async () => {
    if (!kernelAvailable()) return;
    s = new LspSession();
    await s.initialize({ debounceMs: 0 });
    uri = s.open(FILE, TEXT);
  });
  after(async () => s?.dispose());

  const labels = (items: CompletionItem[] | { items: CompletionItem[] }): string[] => (Array.isArray(items) ? items : items.items).map((i) => i.label);

  test('hover on bpf_map_lookup_elem shows its documentation from bpf_helper_defs.h', async (t) => {
    if (!requireKernel(t)) return;
    const h = (await s!.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: positionOf('bpf_map_lookup_elem', 3) })) as Hover;
    const value = (h.contents as MarkupContent).value;
    assert.match(value, /void \*bpf_map_lookup_elem\(void \*map, const void \*key\)/);
    assert.match(value, /BPF helper #1/);
    assert.match(value, /NULL/);
  });

  test('completion in an xdp program does not offer bpf_skb_store_bytes; in a tc program it does', async (t) => {
    if (!requireKernel(t)) return;
    const inXdp = labels(await s!.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: positionOf('bpf_map_update_elem', 4) }));
    assert.ok(inXdp.includes('bpf_map_update_elem'));
    assert.ok(inXdp.includes('bpf_xdp_adjust_head'));
    assert.ok(!inXdp.includes('bpf_skb_store_bytes'), 'xdp cannot call bpf_skb_store_bytes');
    const inTc = labels(await s!.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: positionOf('bpf_map_lookup_elem', 4) }));
    assert.ok(inTc.includes('bpf_skb_store_bytes'));
    assert.ok(!inTc.includes('bpf_xdp_adjust_head'));
  });

  test('completion inside SEC("…") offers section names', async (t) => {
    if (!requireKernel(t)) return;
    const items = labels(await s!.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: positionOf('SEC("tc")', 6) }));
    assert.ok(items.includes('tc'));
    assert.ok(items.some((l) => l.startsWith('tcx/')), 'newer names are offered, marked with their libbpf version');
    assert.ok(!items.includes('xdp'), 'filtered by the typed prefix');
  });

  test('signature help inside bpf_map_update_elem(&hits, &key, | highlights the third argument', async (t) => {
    if (!requireKernel(t)) return;
    const help = (await s!.connection.sendRequest('textDocument/signatureHelp', { textDocument: { uri }, position: positionOf('&one', 0) })) as SignatureHelp;
    assert.match(help.signatures[0]!.label, /^long bpf_map_update_elem\(/);
    assert.equal(help.activeParameter, 2);
    const [start, end] = help.signatures[0]!.parameters![2]!.label as [number, number];
    assert.match(help.signatures[0]!.label.slice(start, end), /value/);
  });

  test('completion outside any program offers the BTF map snippet', async (t) => {
    if (!requireKernel(t)) return;
    const items = (await s!.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: 4, character: 0 } })) as CompletionItem[];
    const snippet = items.find((i) => i.label === 'BPF map (BTF-defined)');
    assert.ok(snippet?.insertText?.includes('SEC(".maps")'));
  });
});
