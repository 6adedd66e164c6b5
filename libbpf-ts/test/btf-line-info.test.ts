import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { compileBpf, runCommand, tempDir } from '@ebpf-studio/test-support';
import { readBpfObject } from '../src/elf/read-object';

const SOURCES = join(__dirname, '..', '..', 'test', 'data', 'objects');
const OBJECTS = ['xdp_hash', 'connect4_array', 'subprog', 'ringbuf', 'pinned', 'tc_lpm', 'sockops_skmsg', 'types'];
const outDir = tempDir();
const built = new Map<string, string>();

function build(name: string): string {
  if (!built.has(name)) built.set(name, compileBpf(join(SOURCES, `${name}.bpf.c`), outDir));
  return built.get(name)!;
}

interface SourcePosition { file: string; line: number }

/**
 * Source position of each instruction per section, from `llvm-objdump -d -l`, which prints a
 * `; file:line` comment from the DWARF line table whenever the position changes (line 0 is never
 * printed) and numbers BPF instructions by index.
 */
function dwarfLineTable(path: string): Map<string, Map<number, SourcePosition>> {
  const sections = new Map<string, Map<number, SourcePosition>>();
  let current: Map<number, SourcePosition> | undefined;
  let position: SourcePosition | undefined;
  for (const text of runCommand('llvm-objdump', ['-d', '-l', '--no-show-raw-insn', path]).split('\n')) {
    const section = /^Disassembly of section (.+):$/.exec(text);
    const location = /^; (\/.+):(\d+)$/.exec(text);
    const insn = /^\s+(\d+):\t/.exec(text);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      position = undefined;
    } else if (location) {
      position = { file: location[1]!, line: Number(location[2]) };
    } else if (insn && current && position) {
      current.set(Number(insn[1]), position);
    }
  }
  return sections;
}

/** DW_AT_decl_line of each function, from `llvm-dwarfdump --debug-info`. */
function declarationLines(path: string): Map<string, number> {
  const lines = new Map<string, number>();
  for (const entry of runCommand('llvm-dwarfdump', ['--debug-info', path]).split(/\n(?=0x[0-9a-f]+:)/)) {
    if (!/DW_TAG_subprogram/.test(entry)) continue;
    const name = /DW_AT_name\s+\("([^"]+)"\)/.exec(entry);
    const line = /DW_AT_decl_line\s+\((\d+)\)/.exec(entry);
    if (name && line) lines.set(name[1]!, Number(line[1]));
  }
  return lines;
}

for (const name of OBJECTS) {
  test(`${name}: each line-info record gives the source line DWARF gives its instruction`, () => {
    const path = build(name);
    const { spec } = readBpfObject(readFileSync(path));
    const table = dwarfLineTable(path);
    const declared = declarationLines(path);
    const functionAt = new Map(spec.funcInfo.map((f) => [`${f.section}+${f.insnOff}`, f.name]));
    assert.ok(spec.lineInfo.length > 0);
    for (const record of spec.lineInfo) {
      const where = `${record.section}+${record.insnOff}`;
      if (record.line === 0) {
        assert.equal(record.sourceText, '', `${where}: line 0 marks compiler-made code`);
        continue;
      }
      // clang may mark a function's start with its declaration line, where DWARF's line table has the body's first line.
      const fn = functionAt.get(where);
      const marksFunctionStart = fn !== undefined && record.column === 0 && record.line === declared.get(fn);
      if (!marksFunctionStart) {
        assert.deepEqual({ file: record.file, line: record.line }, table.get(record.section)?.get(record.insnOff), where);
      }
      const source = readFileSync(record.file, 'utf8').split('\n')[record.line - 1];
      assert.equal(record.sourceText, source, `${where}: sourceText is the text of line ${record.line}`);
      assert.ok(record.column <= record.sourceText.length + 1, `${where}: column ${record.column} lies on the line`);
    }
  });

  test(`${name}: func_info names each function symbol at its instruction offset`, () => {
    const { spec } = readBpfObject(readFileSync(build(name)));
    const bySection = (a: { section: string; insnOff: number }, b: { section: string; insnOff: number }): number =>
      a.section.localeCompare(b.section) || a.insnOff - b.insnOff;
    const functions = spec.symbols
      .filter((s) => s.type === 'FUNC')
      .map((s) => ({ section: spec.sections[s.sectionIndex]!.name, insnOff: s.value / 8, name: s.name }));
    const records = spec.funcInfo.map((f) => ({ section: f.section, insnOff: f.insnOff, name: f.name }));
    assert.deepEqual(records.sort(bySection), functions.sort(bySection));
    for (const record of spec.funcInfo) assert.equal(spec.btf!.typeById(record.typeId)?.kind, 'FUNC');
  });
}

test('a program\'s line is its signature line or the line of its first statement', () => {
  const { spec } = readBpfObject(readFileSync(build('xdp_hash')));
  const declared = declarationLines(build('xdp_hash'));
  const [count, drop] = spec.programs;
  assert.equal(count!.line, declared.get('xdp_count'), 'clang marked the start of xdp_count with its signature');
  assert.equal(drop!.line, declared.get('xdp_drop_all')! + 2, 'xdp_drop_all starts at its return statement');
  assert.equal(count!.file, join(SOURCES, 'xdp_hash.bpf.c'));
});
