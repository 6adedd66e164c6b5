import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import type { CompletionItem, Diagnostic, Hover, MarkupContent, SignatureHelp } from 'vscode-languageserver-protocol';
import { readKernelKfuncs } from '@ebpf-studio/libbpf-ts';
import { createTestNodes, ensurePayloadBuilt, kernelAvailable, requireKernel, tempDir, type TestNodes } from '@ebpf-studio/test-support';
import { VerifyFallback } from '../src/lsp/studio-protocol';
import { LspSession } from './lsp-session';

const ROOT = join(__dirname, '..', '..', '..');
const FIXTURE = join(ROOT, 'server', 'test', 'fixtures', 'lsp', 'kfunc-extern.bpf.c');
const LINES = readFileSync(FIXTURE, 'utf8').split('\n');
/** The empty line in the program's body: completion there offers every helper and kfunc. */
const IN_BODY = { line: LINES.indexOf('', LINES.findIndex((l) => l.startsWith('int pass('))), character: 0 };
const ON_KFUNC = { line: LINES.findIndex((l) => l.startsWith('extern')), character: LINES.find((l) => l.startsWith('extern'))!.indexOf('bpf_task_acquire') + 4 };
const IN_KFUNC_ARGS = { line: ON_KFUNC.line, character: LINES[ON_KFUNC.line]!.indexOf('*p)') + 1 };
/**
 * The namespace nodes run this machine's kernel, so their kfuncs are this machine's too: only a server
 * that cannot see this machine's BTF can tell where its kfuncs came from. This prefix runs it in a
 * private mount namespace of its own with /sys/kernel/btf covered by an empty tmpfs, as on a machine
 * without kernel BTF (macOS, Windows); the namespace, and the mount, end with the server's processes.
 */
const NO_LOCAL_BTF = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o mode=755 ebpf-studio-no-btf /sys/kernel/btf && exec "$@"', 'ebst-no-btf'];
const POLL_MS = 100;

const kfuncLabels = (items: CompletionItem[]): string[] => items.filter((i) => i.detail?.startsWith('kfunc: ')).map((i) => i.label).sort();

async function completionAt(s: LspSession, uri: string): Promise<CompletionItem[]> {
  return (await s.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: IN_BODY })) as CompletionItem[];
}

/** Completes in the program's body until `accept` holds; how long that took and how many answers came before. */
async function completeUntil(s: LspSession, uri: string, accept: (kfuncs: string[]) => boolean, what: string, timeoutMs = 90_000): Promise<{ kfuncs: string[]; ms: number; before: number }> {
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  for (let before = 0; ; before++) {
    const kfuncs = kfuncLabels(await completionAt(s, uri));
    if (accept(kfuncs)) return { kfuncs, ms: performance.now() - started, before };
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; the last completion offered ${kfuncs.length} kfuncs`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A directory holding the fixture (and the files given), away from any ebpf-studio.yaml of the repository. */
function workDir(extra: Record<string, string> = {}): string {
  const dir = tempDir('ebpf-studio-kfuncs-');
  copyFileSync(FIXTURE, join(dir, 'kfunc-extern.bpf.c'));
  for (const [name, source] of Object.entries(extra)) copyFileSync(source, join(dir, name));
  return dir;
}

describe('kfuncs come from the kernel the documents verify on (namespace nodes over SSH)', () => {
  let nodes: TestNodes | undefined;
  /** This kernel's kfuncs, which the nodes share. */
  let expected: string[] = [];
  before(async () => {
    if (!kernelAvailable()) return;
    expected = readKernelKfuncs().kfuncs.map((k) => k.name).sort();
    await ensurePayloadBuilt();
    nodes = await createTestNodes({ clusters: { west: ['west-1', 'west-2'] }, hideBtf: ['west-2'] });
  });
  after(() => nodes?.remove());

  const kernelHasTheKfunc = (t: test.TestContext): boolean => {
    if (expected.includes('bpf_task_acquire')) return true;
    t.skip('this kernel has no bpf_task_acquire kfunc in its BTF');
    return false;
  };

  test('control: with its BTF hidden and no node, the server has no kfuncs at all', async (t) => {
    if (!requireKernel(t) || !kernelHasTheKfunc(t)) return;
    const s = new LspSession(NO_LOCAL_BTF);
    try {
      await s.initialize({ debounceMs: 0 });
      const uri = s.open(join(workDir(), 'kfunc-extern.bpf.c'));
      const p = await s.diagnostics(uri, (x) => x.diagnostics.length > 0, 0, 60_000);
      assert.ok(p.diagnostics.some((d) => /no kernel BTF at \/sys\/kernel\/btf\/vmlinux/.test(String(d.message))), 'the server\'s side cannot see this machine\'s BTF');
      assert.deepEqual(kfuncLabels(await completionAt(s, uri)), []);
    } finally {
      await s.dispose();
    }
  });

  test('verifyTarget names a node: completion, hover and signature help offer that node\'s kfuncs', async (t) => {
    if (!requireKernel(t) || !kernelHasTheKfunc(t)) return;
    const s = new LspSession(NO_LOCAL_BTF);
    try {
      await s.initialize({ debounceMs: 0, verifyTarget: ['west-1'], sshConfig: nodes!.sshConfig });
      const uri = s.open(join(workDir(), 'kfunc-extern.bpf.c'));
      const first = await completeUntil(s, uri, (k) => k.length > 0, 'west-1\'s kfuncs in completion');
      t.diagnostic(`first completion with west-1's ${first.kfuncs.length} kfuncs ${first.ms.toFixed(0)} ms after opening (connect, upload, agent start, BTF parse on the node); ${first.before} completions answered before, without waiting`);
      assert.deepEqual(first.kfuncs, expected, 'every kfunc of the node\'s kernel, none of this machine\'s (it shows the server none)');
      const hover = (await s.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: ON_KFUNC })) as Hover;
      assert.match((hover.contents as MarkupContent).value, /struct task_struct \*bpf_task_acquire\(struct task_struct \*p\)[\s\S]*kfunc of the target kernel/);
      const help = (await s.connection.sendRequest('textDocument/signatureHelp', { textDocument: { uri }, position: IN_KFUNC_ARGS })) as SignatureHelp;
      assert.equal(help.signatures[0]!.label, 'struct task_struct *bpf_task_acquire(struct task_struct *p)');
      const started = performance.now();
      await completionAt(s, uri);
      t.diagnostic(`a later completion (kfuncs cached): ${(performance.now() - started).toFixed(0)} ms`);
    } finally {
      await s.dispose();
    }
  });

  test('default target on a machine without BTF: the first node of the ebpf-studio.yaml verifies, and its kfuncs come with it', async (t) => {
    if (!requireKernel(t) || !kernelHasTheKfunc(t)) return;
    const dir = workDir({ 'ebpf-studio.yaml': nodes!.inventory });
    const s = new LspSession(NO_LOCAL_BTF);
    try {
      await s.initialize({ debounceMs: 0, sshConfig: nodes!.sshConfig });
      const uri = s.open(join(dir, 'kfunc-extern.bpf.c'));
      const p = await s.diagnostics(uri, (x) => x.diagnostics.some((d: Diagnostic) => d.code === VerifyFallback.code), 0, 90_000);
      const note = p.diagnostics.find((d) => d.code === VerifyFallback.code)!;
      assert.equal(VerifyFallback.note.exec(String(note.message))?.[1], 'west-1');
      const { kfuncs } = await completeUntil(s, uri, (k) => k.length > 0, 'the fallback node\'s kfuncs in completion');
      assert.deepEqual(kfuncs, expected);
    } finally {
      await s.dispose();
    }
  });

  test('a node without BTF: none of its kfuncs, not this machine\'s; back on this machine they are there again', async (t) => {
    if (!requireKernel(t) || !kernelHasTheKfunc(t)) return;
    const s = new LspSession();
    try {
      await s.initialize({ debounceMs: 0, verifyTarget: ['west-2'], sshConfig: nodes!.sshConfig });
      const uri = s.open(join(workDir(), 'kfunc-extern.bpf.c'));
      const bare = await completeUntil(s, uri, (k) => k.length === 0, 'west-2 (no BTF) offering no kfuncs', 60_000);
      t.diagnostic(`west-2's answer (no kfuncs) after ${bare.ms.toFixed(0)} ms; ${bare.before} completions offered this machine's meanwhile`);
      assert.equal(await s.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: ON_KFUNC }), null, 'no hover for a kfunc that kernel cannot have');
      await s.connection.sendNotification('workspace/didChangeConfiguration', { settings: { ebpfStudio: { debounceMs: 0, sshConfig: nodes!.sshConfig } } });
      const local = await completeUntil(s, uri, (k) => k.length > 0, 'this machine\'s kfuncs after the setting went back to local', 30_000);
      assert.deepEqual(local.kfuncs, expected);
    } finally {
      await s.dispose();
    }
  });
});
