import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { compileBpf, runCommand, tempDir } from '@ebpf-studio/test-support';
import type { ElfSection, ElfSymbol } from '../src/elf/elf-file';
import { readBpfObject } from '../src/elf/read-object';

const SOURCES = join(__dirname, '..', '..', 'test', 'data', 'objects');
const OBJECTS = ['xdp_hash', 'connect4_array', 'subprog', 'ringbuf', 'pinned', 'tc_lpm', 'sockops_skmsg', 'types', 'static_prog'];
const outDir = tempDir();
const SHF_ALLOC = 0x2;
const SHF_EXECINSTR = 0x4;
const SYMBOL_TYPES = ['NOTYPE', 'OBJECT', 'FUNC', 'SECTION', 'FILE'];
const SYMBOL_BINDS = ['LOCAL', 'GLOBAL', 'WEAK'];

/** `llvm-readobj` prints records as `Key: value` (or `Flags [ (0x6)`) lines inside `Section {` / `Symbol {` blocks. */
function readobjBlocks(path: string, option: string, block: string): Record<string, string>[] {
  const output = runCommand('llvm-readobj', [option, path]);
  return output.split(new RegExp(`\\n\\s*${block} \\{\\n`)).slice(1).map((text) => {
    const fields: Record<string, string> = {};
    for (const line of text.split('\n')) {
      const field = /^\s*(\w+)(?:: ?| \[ )(.*)$/.exec(line);
      if (field && !(field[1]! in fields)) fields[field[1]!] = field[2]!;
    }
    return fields;
  });
}

/** The number in parentheses that readobj puts after a name: `SHT_PROGBITS (0x1)`. */
function parenthesized(value: string): number {
  return Number(/\((0x[0-9A-Fa-f]+|\d+)\)\s*$/.exec(value)![1]);
}

/** The column llvm-objdump -h shows as "Type". */
function objdumpKind(section: ElfSection): string {
  if (section.flags & SHF_EXECINSTR) return 'TEXT';
  if (section.type === 'NOBITS' && section.flags & SHF_ALLOC) return 'BSS';
  if (section.type === 'PROGBITS' && section.flags & SHF_ALLOC) return 'DATA';
  return section.name.startsWith('.debug') ? 'DEBUG' : '';
}

function symbolSectionName(symbol: ElfSymbol, sections: ElfSection[]): string {
  if (symbol.sectionIndex === 0xfff1) return '*ABS*';
  if (symbol.sectionIndex === 0) return '*UND*';
  return sections[symbol.sectionIndex]!.name;
}

const builds = [
  ...OBJECTS.map((name) => ({ name, path: compileBpf(join(SOURCES, `${name}.bpf.c`), outDir) })),
  { name: 'connect4_array (big-endian)', path: compileBpf(join(SOURCES, 'connect4_array.bpf.c'), tempDir(), ['-target', 'bpfeb']) },
];

for (const { name, path } of builds) {
  const { spec } = readBpfObject(readFileSync(path));

  test(`${name}: sections match llvm-objdump -h`, () => {
    const rows = runCommand('llvm-objdump', ['-h', path]).split('\n')
      .map((line) => /^\s+(\d+) (\S*)\s+([0-9a-f]{8}) [0-9a-f]{16} ?(\w*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ index: Number(m[1]), name: m[2]!, size: parseInt(m[3]!, 16), kind: m[4]! }));
    assert.ok(rows.length > 10);
    assert.deepEqual(spec.sections.map((s) => ({ index: s.index, name: s.name, size: s.size, kind: objdumpKind(s) })), rows);
  });

  test(`${name}: section types, flags, offsets and links match llvm-readobj --sections`, () => {
    const expected = readobjBlocks(path, '--sections', 'Section').map((f) => ({
      index: Number(f.Index),
      name: f.Name!.replace(/ \(\d+\)$/, ''),
      type: f.Type!.replace(/ \(.*$/, ''),
      flags: parenthesized(f.Flags!),
      offset: Number(f.Offset),
      size: Number(f.Size),
      link: Number(f.Link),
      info: Number(f.Info),
    }));
    assert.deepEqual(spec.sections.map((s) => ({ ...s, type: `SHT_${s.type}` })), expected);
  });

  test(`${name}: symbols match llvm-objdump -t`, () => {
    const rows = runCommand('llvm-objdump', ['-t', path]).split('\n')
      .map((line) => /^([0-9a-f]{16}) (.{7}) (\S+)\t([0-9a-f]{16}) (.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ value: parseInt(m[1]!, 16), flags: m[2]!, section: m[3]!, size: parseInt(m[4]!, 16), name: m[5]! }));
    const actual = spec.symbols.map((s) => ({
      value: s.value,
      flags: [
        s.bind === 'LOCAL' ? 'l' : s.bind === 'GLOBAL' ? 'g' : ' ',
        s.bind === 'WEAK' ? 'w' : ' ',
        '  ',
        ' ',
        s.type === 'SECTION' || s.type === 'FILE' ? 'd' : ' ',
        { FUNC: 'F', OBJECT: 'O', FILE: 'f' }[s.type] ?? ' ',
      ].join(''),
      section: symbolSectionName(s, spec.sections),
      size: s.size,
      name: s.type === 'SECTION' ? spec.sections[s.sectionIndex]!.name : s.name,
    }));
    assert.deepEqual(actual, rows);
  });

  test(`${name}: symbol types, bindings and section indexes match llvm-readobj --symbols`, () => {
    const expected = readobjBlocks(path, '--symbols', 'Symbol').slice(1).map((f, i) => ({
      index: i + 1,
      name: f.Name!.replace(/ \(\d+\)$/, ''),
      value: Number(f.Value),
      size: Number(f.Size),
      type: SYMBOL_TYPES[parenthesized(f.Type!)],
      bind: SYMBOL_BINDS[parenthesized(f.Binding!)],
      sectionIndex: parenthesized(f.Section!),
    }));
    const actual = spec.symbols.map((s) => (s.type === 'SECTION' ? { ...s, name: spec.sections[s.sectionIndex]!.name } : s));
    assert.deepEqual(actual, expected);
  });
}
