import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { compileBpf, runCommand, tempDir } from '@ebpf-studio/test-support';
import { Btf } from '../src/btf/btf';
import type { BtfType } from '../src/btf/btf-types';
import { parseBtf } from '../src/btf/parse-btf';
import { readBpfObject } from '../src/elf/read-object';

const SOURCES = join(__dirname, '..', '..', 'test', 'data', 'objects');
const OBJECTS = ['xdp_hash', 'connect4_array', 'subprog', 'ringbuf', 'pinned', 'tc_lpm', 'sockops_skmsg', 'types'];
const outDir = tempDir();
const built = new Map<string, string>();

function build(name: string): string {
  if (!built.has(name)) built.set(name, compileBpf(join(SOURCES, `${name}.bpf.c`), outDir));
  return built.get(name)!;
}

/** The raw .BTF bytes, before the DATASEC fix-up readBpfObject applies (bpftool shows them unfixed). */
function rawBtf(path: string): Btf {
  const bytes = readFileSync(path);
  const { spec } = readBpfObject(bytes);
  const section = spec.sections.find((s) => s.name === '.BTF')!;
  const { btf, problems } = parseBtf(bytes.subarray(section.offset, section.offset + section.size));
  assert.deepEqual(problems, []);
  return btf!;
}

/** One type in the format of `bpftool btf dump file X.o` (bpftool's dump_btf_type). */
function bpftoolFormat(btf: Btf, t: BtfType): string {
  const head = `[${t.id}] ${t.kind} '${t.name || '(anon)'}'`;
  const member = (name: string): string => `\n\t'${name || '(anon)'}'`;
  switch (t.kind) {
    case 'INT': {
      const encoding = t.isSigned ? 'SIGNED' : t.isChar ? 'CHAR' : t.isBool ? 'BOOL' : '(none)';
      return `${head} size=${t.size} bits_offset=${t.bitOffset} nr_bits=${t.bits} encoding=${encoding}`;
    }
    case 'PTR':
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
      return `${head} type_id=${t.type}`;
    case 'ARRAY':
      return `${head} type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.length}`;
    case 'STRUCT':
    case 'UNION':
      return `${head} size=${t.size} vlen=${t.members.length}` + t.members
        .map((m) => `${member(m.name)} type_id=${m.type} bits_offset=${m.bitOffset}${m.bitfieldSize ? ` bitfield_size=${m.bitfieldSize}` : ''}`)
        .join('');
    case 'ENUM':
    case 'ENUM64':
      return `${head} encoding=${t.isSigned ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}` + t.values
        .map((v) => `${member(v.name)} val=${v.value}`)
        .join('');
    case 'FWD':
      return `${head} fwd_kind=${t.fwdKind}`;
    case 'FUNC':
      return `${head} type_id=${t.type} linkage=${t.linkage}`;
    case 'FUNC_PROTO':
      return `${head} ret_type_id=${t.returnType} vlen=${t.params.length}` + t.params.map((p) => `${member(p.name)} type_id=${p.type}`).join('');
    case 'VAR':
      return `${head} type_id=${t.type}, linkage=${t.linkage}`;
    case 'DATASEC':
      return `${head} size=${t.size} vlen=${t.vars.length}` + t.vars
        .map((v) => `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size} (${btf.typeById(v.type)!.kind} '${btf.typeById(v.type)!.name}')`)
        .join('');
    case 'FLOAT':
      return `${head} size=${t.size}`;
    case 'DECL_TAG':
      return `${head} type_id=${t.type} component_idx=${t.componentIndex}`;
    case 'VOID':
      return head;
  }
}

for (const name of OBJECTS) {
  test(`${name}: every BTF type matches bpftool btf dump (ids, kinds, names and fields)`, () => {
    const path = build(name);
    const btf = rawBtf(path);
    const expected = runCommand('bpftool', ['btf', 'dump', 'file', path]).trimEnd();
    const actual = btf.types.slice(1).map((t) => bpftoolFormat(btf, t)).join('\n');
    assert.equal(actual, expected);
  });
}

test('the test objects cover every BTF kind clang 14 emits', () => {
  const kinds = new Set(OBJECTS.flatMap((name) => rawBtf(build(name)).types.map((t) => t.kind)));
  const emitted = ['INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE', 'CONST',
    'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG'];
  assert.deepEqual(emitted.filter((k) => !kinds.has(k as BtfType['kind'])), []);
});

test('typeName spells types like C', () => {
  const btf = readBpfObject(readFileSync(build('types'))).spec.btf!;
  const member = (struct: string, field: string): number => {
    const type = btf.findByName(struct, 'STRUCT');
    assert.ok(type?.kind === 'STRUCT');
    return type.members.find((m) => m.name === field)!.type;
  };
  assert.equal(btf.typeName(btf.findByName('settings')!.id), 'struct settings');
  assert.equal(btf.typeName(member('settings', 'name')), 'char[8]');
  assert.equal(btf.typeName(member('settings', 'limit')), 'counter_t');
  assert.equal(btf.typeName(member('settings', 'mode')), 'enum mode');
  assert.equal(btf.typeName(member('settings', 'addr')), 'union addr');
  assert.equal(btf.typeName(member('settings', 'user_ptr')), 'int *');
  assert.equal(btf.typeName(member('__sk_buff', 'cb')), '__u32[5]');
  assert.equal(btf.typeName(btf.findByName('read_cfg', 'FUNC')!.id), 'int read_cfg(struct __sk_buff *)');
  const forwardOnly = btf.findByName('forward_only', 'VAR');
  assert.ok(forwardOnly?.kind === 'VAR');
  assert.equal(btf.typeName(forwardOnly.type), 'const volatile int');
  const pending = btf.findByName('pending', 'VAR');
  assert.ok(pending?.kind === 'VAR');
  assert.equal(btf.typeName(pending.type), 'struct later *');
});

test('sizeOf resolves typedefs, qualifiers and arrays; findByName filters by kind', () => {
  const btf = readBpfObject(readFileSync(build('types'))).spec.btf!;
  assert.equal(btf.sizeOf(btf.findByName('settings')!.id), 72);
  assert.equal(btf.sizeOf(btf.findByName('counter_t')!.id), 8);
  assert.equal(btf.sizeOf(btf.findByName('forward_only', 'VAR')!.id), 4);
  assert.equal(btf.sizeOf(btf.findByName('later')!.id), undefined, 'a forward declaration has no size');
  assert.equal(btf.findByName('flags', 'STRUCT')?.kind, 'STRUCT');
  assert.equal(btf.findByName('flags', 'UNION'), undefined);
  assert.equal(btf.typeById(0)?.kind, 'VOID');
  assert.equal(btf.typeById(100000), undefined);
});

test('DATASEC offsets and sizes are filled in from the ELF, as libbpf does before load', () => {
  const path = build('connect4_array');
  const raw = rawBtf(path).findByName('.rodata', 'DATASEC');
  const fixed = readBpfObject(readFileSync(path)).spec.btf!.findByName('.rodata', 'DATASEC');
  assert.ok(raw?.kind === 'DATASEC' && fixed?.kind === 'DATASEC');
  assert.deepEqual(raw.vars.map((v) => v.offset), [0, 0], 'clang 14 leaves the offsets at 0');
  assert.equal(raw.size, 0);
  assert.deepEqual(fixed.vars.map((v) => v.offset), [0, 4]);
  assert.equal(fixed.size, 8);
});
