import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { requireKernel, tempDir } from '@ebpf-studio/test-support';
import { LspSession } from './lsp-session';

const errors = (diagnostics: Diagnostic[]): string[] => diagnostics.filter((d) => d.severity === 1).map((d) => `${d.range.start.line + 1}:${String(d.code)} ${d.message}`);

test('a compile_commands.json that appears, changes or goes re-verifies the open file with the build\'s flags (real kernel)', async (t) => {
  if (!requireKernel(t)) return;
  const root = tempDir();
  mkdirSync(join(root, 'inc'));
  mkdirSync(join(root, 'src'));
  mkdirSync(join(root, 'build'));
  writeFileSync(join(root, 'inc', 'policy.h'), '#define MAX_BACKENDS 4\n');
  const file = join(root, 'src', 'lb.bpf.c');
  writeFileSync(file, '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n#include "policy.h"\n\nSEC("xdp")\nint lb(struct xdp_md *ctx)\n{\n\treturn MAX_BACKENDS > 2 ? XDP_PASS : XDP_DROP;\n}\n\nchar LICENSE[] SEC("license") = "GPL";\n');
  const database = join(root, 'build', 'compile_commands.json');
  const changed = (type: 1 | 2 | 3): Promise<void> =>
    s.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(database).href, type }] });
  const entry = (command: string): void => writeFileSync(database, JSON.stringify([{ directory: join(root, 'src'), file: 'lb.bpf.c', command }]));

  const s = new LspSession();
  try {
    await s.initialize({ debounceMs: 0 });
    const uri = s.open(file);
    const missing = await s.diagnostics(uri);
    assert.match(errors(missing.diagnostics).join('\n'), /3:CLANG-MISSING-HEADER .*'policy\.h' file not found/);

    let from = s.published.length;
    entry('clang -O2 -g -target bpf -I../inc -c lb.bpf.c -o lb.o');
    await changed(1);
    const clean = await s.diagnostics(uri, () => true, from);
    assert.deepEqual(errors(clean.diagnostics), [], 'the -I of the build finds the header');

    from = s.published.length;
    entry('clang -O2 -g -target bpf -c lb.bpf.c -o lb.o');
    await changed(2);
    const again = await s.diagnostics(uri, () => true, from);
    assert.match(errors(again.diagnostics).join('\n'), /CLANG-MISSING-HEADER/, 'the changed database is not served from the cache');
  } finally {
    await s.dispose();
  }
});
