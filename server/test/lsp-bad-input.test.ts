import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Diagnostic, Hover } from 'vscode-languageserver-protocol';
import { requireKernel, tempDir } from '@ebpf-studio/test-support';
import { LspSession } from './lsp-session';

const ROOT = join(__dirname, '..', '..', '..');
const FIXTURES = join(ROOT, 'server', 'test', 'fixtures');
const codes = (diagnostics: Diagnostic[]): string[] => diagnostics.map((d) => String(d.code));

async function withSession(settings: Record<string, unknown>, body: (s: LspSession) => Promise<void>, prefix: string[] = []): Promise<void> {
  const s = new LspSession(prefix);
  try {
    await s.initialize(settings);
    await body(s);
  } finally {
    await s.dispose();
  }
}

/** Child pids of a process, those whose command line matches `pattern` when given (pgrep -P). */
function childrenOf(pid: number, pattern?: string): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), ...(pattern ? ['-f', pattern] : [])], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return [];
  }
}

/** Clock ticks a process has spent in the kernel (stime, field 15 of /proc/PID/stat); 0 once it is gone. */
function kernelTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]);
  } catch {
    return 0;
  }
}

/**
 * The agent under the server, once one of its verify workers has spent a quarter of a second in the kernel:
 * it is in BPF_PROG_LOAD, i.e. verifying (a worker's start-up spends a few ticks there).
 */
async function agentWhileVerifying(serverPid: number, timeoutMs: number): Promise<number> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    const agents = childrenOf(serverPid, 'agent/main.js');
    assert.ok(agents.length <= 1, `one agent under the server: ${agents.join(', ')}`);
    if (agents.length === 1 && childrenOf(agents[0]!).some((worker) => kernelTicks(worker) >= 25)) return agents[0]!;
  }
  throw new Error(`no verify worker of the server's agent was in the kernel within ${timeoutMs} ms`);
}

describe('language server on bad input (real kernel)', () => {
  test('a clang that hangs is stopped after the timeout and the diagnostic says so', async (t) => {
    if (!requireKernel(t)) return;
    const dir = tempDir();
    const hanging = join(dir, 'clang');
    writeFileSync(hanging, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(hanging, 0o755);
    await withSession({ debounceMs: 0, clangPath: hanging, clangTimeoutMs: 400 }, async (s) => {
      const uri = s.open(join(ROOT, 'examples', 'xdp-gateway-counter.bpf.c'));
      const p = await s.diagnostics(uri, (x) => x.diagnostics.length > 0);
      assert.match(String(p.diagnostics[0]!.message), /clang did not finish within 400 ms/);
    });
  });

  test('the agent killed mid-verify is restarted, and one diagnostic says what happened', async (t) => {
    if (!requireKernel(t)) return;
    await withSession({ debounceMs: 0 }, async (s) => {
      const uri = s.open(join(ROOT, 'libbpf-ts', 'test', 'data', 'kernel', 'too-complex.bpf.c'));
      process.kill(await agentWhileVerifying(s.pid!, 30_000), 'SIGKILL');
      const p = await s.diagnostics(uri, (x) => x.diagnostics.length > 0, 0, 60_000);
      assert.deepEqual(codes(p.diagnostics).sort(), ['BPF-TOO-COMPLEX', 'EBPF-STUDIO-AGENT-RESTARTED']);
    });
  });

  test('a 50,000-line document and binary garbage get diagnostics and the server stays responsive', async (t) => {
    if (!requireKernel(t)) return;
    await withSession({ debounceMs: 0 }, async (s) => {
      const dir = tempDir();
      const base = readFileSync(join(ROOT, 'examples', 'xdp-gateway-counter.bpf.c'), 'utf8');
      const filler = Array.from({ length: 50_000 }, (_, i) => `static const int filler_${i} = ${i};`).join('\n');
      const big = join(dir, 'big.bpf.c');
      writeFileSync(big, `${base}\n${filler}\n`);
      const bigUri = s.open(big);
      const garbage = join(dir, 'garbage.bpf.c');
      writeFileSync(garbage, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) % 256)));
      const garbageUri = s.open(garbage);
      const g = await s.diagnostics(garbageUri, (x) => x.diagnostics.length > 0);
      assert.ok(codes(g.diagnostics).includes('CLANG-ERROR'));
      const b = await s.diagnostics(bigUri, () => true, 0, 60_000);
      assert.deepEqual(b.diagnostics.filter((d) => d.severity === 1), [], 'the long file verifies clean');
      const line = base.split('\n').findIndex((l) => l.includes('bpf_map_lookup_elem'));
      const hover = (await s.connection.sendRequest('textDocument/hover', { textDocument: { uri: bigUri }, position: { line, character: base.split('\n')[line]!.indexOf('bpf_map_lookup_elem') + 2 } })) as Hover;
      assert.ok(hover, 'hover still answers');
    });
  });

  test('without privileges: one warning that names the fix, not a flood', async (t) => {
    if (!requireKernel(t)) return;
    await withSession(
      { debounceMs: 0 },
      async (s) => {
        const a = s.open(join(FIXTURES, 'lsp', 'null-deref.bpf.c'));
        const b = s.open(join(FIXTURES, 'lsp', 'packet-bounds.bpf.c'));
        for (const uri of [a, b]) {
          const p = await s.diagnostics(uri, (x) => x.diagnostics.length > 0);
          assert.equal(p.diagnostics.length, 1);
          assert.equal(p.diagnostics[0]!.severity, 2);
          assert.match(String(p.diagnostics[0]!.message), /root|CAP_BPF/);
        }
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(s.messages.filter((m) => m.type === 2).length, 1, 'one warning message for the window');
      },
      ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
    );
  });
});
