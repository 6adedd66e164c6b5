import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { requireKernel, tempDir } from '@ebpf-studio/test-support';

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'cli', 'bin', 'ebpf-studio.js');
const EXAMPLES = join(ROOT, 'examples');

function run(args: string[], prefix: string[] = []): { code: number; stdout: string; stderr: string } {
  const argv = [...prefix, process.execPath, BIN, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: ROOT });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('ebpf-studio verify (real kernel)', () => {
  test('an accepted program: exit 0 and one summary line per program', (t) => {
    if (!requireKernel(t)) return;
    const r = run(['verify', join(EXAMPLES, 'xdp-gateway-counter.bpf.c')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^✓ count_by_subnet \[SEC\("xdp"\), xdp\]: accepted · \d+ insns · [\d.]+ ms · kernel /m);
  });

  test('a rejected program: exit 1, a gcc-style error on the root-cause line with its code', (t) => {
    if (!requireKernel(t)) return;
    const r = run(['verify', join(EXAMPLES, 'failover-unchecked.bpf.c')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^examples\/failover-unchecked\.bpf\.c:26:\d+: error: .*map_value_or_null.* \[BPF-NULL-DEREF\]$/m);
    assert.match(r.stdout, /^examples\/failover-unchecked\.bpf\.c:25:\d+: note: /m);
    assert.match(r.stdout, /^✗ failover_connect4 .*: rejected/m);
  });

  test('--json has the documented shape', (t) => {
    if (!requireKernel(t)) return;
    const r = run(['verify', '--json', join(EXAMPLES, 'failover-unchecked.bpf.c')]);
    assert.equal(r.code, 1);
    const json = JSON.parse(r.stdout) as { file: string; ok: boolean; programs: Record<string, unknown>[]; diagnostics: Record<string, unknown>[] };
    assert.equal(json.ok, false);
    assert.deepEqual(Object.keys(json.programs[0]!).sort(), ['insnsProcessed', 'name', 'reason', 'section', 'type', 'verdict', 'verifyMs']);
    assert.equal(json.programs[0]!['verdict'], 'rejected');
    const d = json.diagnostics[0]!;
    for (const key of ['file', 'line', 'column', 'endLine', 'endColumn', 'severity', 'source', 'code', 'message', 'kernelMessage', 'program', 'related']) assert.ok(key in d, key);
    assert.equal(d['line'], 26);
    assert.equal(d['source'], 'verifier');
  });

  test('an object file verifies like its source, with lines from its line info', (t) => {
    if (!requireKernel(t)) return;
    const dir = tempDir();
    const obj = join(dir, 'failover.o');
    execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', join(EXAMPLES, 'failover-unchecked.bpf.c'), '-o', obj]);
    const r = run(['verify', '--json', obj]);
    assert.equal(r.code, 1);
    const json = JSON.parse(r.stdout) as { diagnostics: { line: number; code: string; file: string }[] };
    assert.equal(json.diagnostics[0]!.code, 'BPF-NULL-DEREF');
    assert.equal(json.diagnostics[0]!.line, 26);
    assert.match(json.diagnostics[0]!.file, /failover-unchecked\.bpf\.c$/);
  });

  test('an object without BTF says so and names the fix', (t) => {
    if (!requireKernel(t)) return;
    const dir = tempDir();
    const obj = join(dir, 'nobtf.o');
    execFileSync('clang', ['-O2', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', join(EXAMPLES, 'xdp-gateway-counter.bpf.c'), '-o', obj]);
    const r = run(['verify', obj]);
    assert.match(r.stdout, /no \.BTF.*-g/i);
  });

  test('an object that is not ELF, or is cut short, says so, not "add a SEC"', (t) => {
    if (!requireKernel(t)) return;
    const dir = tempDir();
    const notElf = join(dir, 'notes.o');
    writeFileSync(notElf, 'not an object\n');
    const built = join(dir, 'counter.o');
    execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', join(EXAMPLES, 'xdp-gateway-counter.bpf.c'), '-o', built]);
    const truncated = join(dir, 'truncated.o');
    writeFileSync(truncated, readFileSync(built).subarray(0, 600));
    const a = run(['verify', notElf]);
    assert.equal(a.code, 1);
    assert.match(a.stdout, /notes\.o:1:1: error: not an ELF file .*clang -O2 -g -target bpf/);
    const b = run(['verify', truncated]);
    assert.equal(b.code, 1);
    assert.match(b.stdout, /truncated\.o:1:1: error: truncated ELF: .*rebuild the object/);
    assert.doesNotMatch(a.stdout + b.stdout, /SEC\(/);
  });

  test('a directory verifies every *.bpf.c below it (not hidden or node_modules ones), each line led by its file, then totals', (t) => {
    if (!requireKernel(t)) return;
    const dir = tempDir();
    for (const sub of ['nested', '.cache', 'node_modules']) mkdirSync(join(dir, sub));
    copyFileSync(join(EXAMPLES, 'xdp-gateway-counter.bpf.c'), join(dir, 'counter.bpf.c'));
    copyFileSync(join(EXAMPLES, 'failover-unchecked.bpf.c'), join(dir, 'nested', 'failover.bpf.c'));
    for (const skipped of ['.cache', 'node_modules']) copyFileSync(join(EXAMPLES, 'failover-unchecked.bpf.c'), join(dir, skipped, 'failover.bpf.c'));
    writeFileSync(join(dir, 'nested', 'notes.c'), 'not BPF');
    const r = run(['verify', dir]);
    assert.equal(r.code, 1, 'one file rejects');
    const summaries = r.stdout.split('\n').filter((l) => /: [✓✗] /.test(l));
    assert.deepEqual(summaries.map((l) => l.replace(/ \[.*$/, '')), [`${join(dir, 'counter.bpf.c')}: ✓ count_by_subnet`, `${join(dir, 'nested', 'failover.bpf.c')}: ✗ failover_connect4`]);
    assert.match(r.stdout, /\n2 files, 2 programs: 1 accepted, 1 rejected, 0 not loaded; 1 file fails\n/);
    const json = run(['verify', '--json', join(dir, 'nested')]);
    assert.equal((JSON.parse(json.stdout) as unknown[]).length, 1, 'a directory gives an array, even of one file');
    mkdirSync(join(dir, 'none'));
    const empty = run(['verify', join(dir, 'none')]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /no \.bpf\.c file under .*none: name BPF sources \*\.bpf\.c/);
  });

  test('bad input: empty file, garbage, missing file, unknown --set, missing clang, bad flag', (t) => {
    if (!requireKernel(t)) return;
    const dir = tempDir();
    const empty = join(dir, 'empty.bpf.c');
    writeFileSync(empty, '');
    const garbage = join(dir, 'garbage.bpf.c');
    writeFileSync(garbage, Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919) % 256)));
    const prose = join(dir, 'prose.bpf.c');
    writeFileSync(prose, 'This is not C at all.\nIt is a note about clusters.\n');

    const e = run(['verify', empty]);
    assert.equal(e.code, 1);
    assert.match(e.stdout, /no BPF program found.*SEC/);
    for (const file of [garbage, prose]) {
      const g = run(['verify', file]);
      assert.equal(g.code, 1);
      assert.match(g.stdout, /error: .*\[CLANG-ERROR\]/);
    }
    const missing = run(['verify', join(dir, 'nope.bpf.c')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.bpf\.c: ENOENT/);
    const set = run(['verify', '--set', 'nope=1', join(EXAMPLES, 'xdp-gateway-counter.bpf.c')]);
    assert.equal(set.code, 2);
    assert.match(set.stderr, /no global variable 'nope'/);
    const clang = run(['verify', '--clang', join(dir, 'no-clang'), join(EXAMPLES, 'xdp-gateway-counter.bpf.c')]);
    assert.equal(clang.code, 2);
    assert.match(clang.stderr, /clang not found.*apt-get install clang/);
    const flag = run(['verify', '--frobnicate', empty]);
    assert.equal(flag.code, 2);
  });

  test('vmlinux.h is generated for this kernel once when a source includes it; --no-vmlinux leaves it out, --vmlinux always adds it', (t) => {
    if (!requireKernel(t)) return;
    const cache = tempDir();
    const env = { ...process.env, EBPF_STUDIO_CACHE: cache };
    const cli = (args: string[]) => spawnSync(process.execPath, [BIN, 'verify', ...args], { encoding: 'utf8', env });
    const fixtures = join(ROOT, 'server', 'test', 'fixtures', 'verify');
    const includer = join(fixtures, 'tc-vmlinux-core-mark.bpf.c');
    const off = cli(['--no-vmlinux', includer]);
    assert.equal(off.status, 1, off.stdout + off.stderr);
    assert.match(off.stdout + off.stderr, /'vmlinux\.h' file not found.*CLANG-MISSING-HEADER/);
    assert.equal(execFileSync('find', [cache, '-name', 'vmlinux.h'], { encoding: 'utf8' }).trim(), '', 'nothing generated for a source that does not get it');
    const auto = cli([includer]);
    assert.equal(auto.status, 0, auto.stdout + auto.stderr);
    const generated = execFileSync('find', [cache, '-name', 'vmlinux.h'], { encoding: 'utf8' }).trim();
    assert.match(generated, /vmlinux\/[^/]+\/vmlinux\.h$/);
    const made = statSync(generated).mtimeMs;
    const forced = cli(['--vmlinux', join(EXAMPLES, 'xdp-gateway-counter.bpf.c')]);
    assert.equal(forced.status, 0, forced.stdout + forced.stderr);
    assert.equal(statSync(generated).mtimeMs, made, 'generated once per kernel build, then reused');
    assert.equal(cli(['--vmlinux', '--no-vmlinux', includer]).status, 2, 'contradicting flags are a usage error');
  });

  test('without privileges: exit 2 and a message that names CAP_BPF / root', (t) => {
    if (!requireKernel(t)) return;
    const r = run(['verify', join(EXAMPLES, 'xdp-gateway-counter.bpf.c')], ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /root|CAP_BPF/);
  });
});
