import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileDatabaseFlags, selectFlags, splitCommand } from '../src/engine/compile-database';
import { compileSource } from '../src/index';

test('a compile command splits like a POSIX shell would, without running anything', () => {
  assert.deepEqual(splitCommand(`clang -DNAME="a b" -I'dir with space' -DX=\\"q\\" $(rm -rf) -c f.c`), ['clang', '-DNAME=a b', '-Idir with space', '-DX="q"', '$(rm', '-rf)', '-c', 'f.c']);
  assert.deepEqual(splitCommand('  cc   -c\tx.c  '), ['cc', '-c', 'x.c']);
  assert.deepEqual(splitCommand(`cc -DS="x\\\\y" ''`), ['cc', '-DS=x\\y', '']);
});

test('only the flags that decide what the source means are taken; paths resolve against the entry\'s directory', () => {
  const args = ['clang', '-O1', '-g', '-target', 'bpfel', '-I', '../inc', '-Ilocal', '-isystem', '/opt/x', '-DA=1', '-D', 'B', '-UC', '-include', 'pre.h',
    '-std=gnu11', '-mcpu=v3', '-Wall', '-Werror', '-Wl,-z', '-MD', '-MF', 'x.d', '-fcolor-diagnostics', '-c', 'f.bpf.c', '-o', 'f.o'];
  assert.deepEqual(selectFlags(args, '/p/src'), ['-I', '/p/inc', '-I', '/p/src/local', '-isystem', '/opt/x', '-DA=1', '-DB', '-UC', '-include', '/p/src/pre.h', '-std=gnu11', '-mcpu=v3', '-Wall', '-Werror']);
});

test('clang gets the build\'s flags from the nearest compile_commands.json: its entry, a sibling .bpf.c\'s for a new file, none without one', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ebpf-studio-compdb-'));
  try {
    mkdirSync(join(root, 'inc'));
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'inc', 'policy.h'), '#ifndef USE_POLICY\n#error USE_POLICY must be set by the build\n#endif\n#define MAX_BACKENDS USE_POLICY\n');
    const text = '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n#include "policy.h"\nSEC("xdp")\nint lb(struct xdp_md *ctx) { return MAX_BACKENDS > 2 ? XDP_PASS : XDP_DROP; }\nchar LICENSE[] SEC("license") = "GPL";\n';
    const file = join(root, 'src', 'lb.bpf.c');
    writeFileSync(file, text);

    const without = await compileSource(text, file);
    assert.equal(without.object, undefined, 'without the database the header is not found');
    assert.match(without.diagnostics.map((d) => d.message).join('\n'), /'policy\.h' file not found/);

    const database = join(root, 'build', 'compile_commands.json');
    mkdirSync(join(root, 'build'));
    writeFileSync(database, JSON.stringify([{ directory: join(root, 'src'), file: 'lb.bpf.c', command: 'clang -O2 -g -target bpf -I ../inc -DUSE_POLICY=3 -c lb.bpf.c -o lb.bpf.o' }]));
    assert.deepEqual(compileDatabaseFlags(file), { database, flags: ['-I', join(root, 'inc'), '-DUSE_POLICY=3'] });
    const withDb = await compileSource(text, file);
    assert.deepEqual(withDb.diagnostics, []);
    assert.ok(withDb.object && withDb.object.length > 0, 'compiled');
    assert.ok(withDb.dependencies.includes(database), 'the database is a dependency: editing it re-verifies');
    assert.ok(withDb.dependencies.includes(join(root, 'inc', 'policy.h')));

    const added = join(root, 'src', 'added.bpf.c');
    writeFileSync(added, text);
    assert.ok((await compileSource(text, added)).object, 'a program not listed yet compiles with its sibling\'s flags');
    assert.equal(compileDatabaseFlags(join(root, 'src', 'user.c')), undefined, 'a non-BPF file the database does not list gets nothing');

    writeFileSync(database, JSON.stringify([{ directory: join(root, 'src'), file: 'lb.bpf.c', arguments: ['clang', 7] }, 'not an entry']));
    assert.equal(compileDatabaseFlags(file), undefined, 'entries of the wrong shape are ignored, not a crash');

    writeFileSync(database, '[{"directory": ');
    await assert.rejects(compileSource(text, file), (err: Error) => err.message.includes(database) && /not valid JSON/.test(err.message) && /regenerate/.test(err.message));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
