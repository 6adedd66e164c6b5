import assert from 'node:assert/strict';
import test from 'node:test';
import { parseBtfExt } from '../src/btf/btf-ext';
import { formatValue } from '../src/btf/format-value';
import { listKfuncs } from '../src/btf/kfuncs';
import { parseBtf } from '../src/btf/parse-btf';

/** Writes BTF blobs by hand, for kinds clang 14 does not emit (ENUM64, RESTRICT) and for broken input. */
class BtfWriter {
  private readonly strings: string[] = [''];
  private stringLength = 1;
  private readonly words: number[] = [];

  name(text: string): number {
    if (text === '') return 0;
    const offset = this.stringLength;
    this.strings.push(text);
    this.stringLength += Buffer.byteLength(text) + 1;
    return offset;
  }

  type(kind: number, name: string, sizeOrType: number, options: { vlen?: number; kindFlag?: boolean; body?: number[] } = {}): this {
    const info = ((options.kindFlag ? 1 : 0) << 31) | (kind << 24) | (options.vlen ?? 0);
    this.words.push(this.name(name), info >>> 0, sizeOrType, ...(options.body ?? []));
    return this;
  }

  bytes(littleEndian = true): Uint8Array {
    const strings = Buffer.from(this.strings.map((s) => `${s}\0`).join(''));
    const typeLength = this.words.length * 4;
    const out = new Uint8Array(24 + typeLength + strings.length);
    const view = new DataView(out.buffer);
    view.setUint16(0, 0xeb9f, littleEndian);
    out[2] = 1;
    [24, 0, typeLength, typeLength, strings.length].forEach((v, i) => view.setUint32(4 + i * 4, v, littleEndian));
    this.words.forEach((w, i) => view.setUint32(24 + i * 4, w, littleEndian));
    out.set(strings, 24 + typeLength);
    return out;
  }
}

const INT = 1, PTR = 2, ARRAY = 3, STRUCT = 4, TYPEDEF = 8, CONST = 10, RESTRICT = 11, FUNC = 12, FUNC_PROTO = 13, DECL_TAG = 17, ENUM64 = 19;
const SIGNED = 1 << 24;

/** [1] int, [2] ENUM64 signed, [3] ENUM64 unsigned, [4] int *, [5] restrict ptr, [6] const ptr, [7] int[4], [8] ptr to [7], [9] int(int, ...), [10] ptr to [9], [11] struct. */
function sample(): BtfWriter {
  const w = new BtfWriter();
  const big = (name: string, value: bigint): number[] => [w.name(name), Number(value & 0xffffffffn), Number((value >> 32n) & 0xffffffffn)];
  return w
    .type(INT, 'int', 4, { body: [SIGNED | 32] })
    .type(ENUM64, 'offset', 8, { vlen: 2, kindFlag: true, body: [...big('BEFORE', -(2n ** 40n)), ...big('AFTER', 2n ** 40n)] })
    .type(ENUM64, 'mask', 8, { vlen: 1, body: big('ALL', 2n ** 64n - 1n) })
    .type(PTR, '', 1)
    .type(RESTRICT, '', 4)
    .type(CONST, '', 4)
    .type(ARRAY, '', 0, { body: [1, 1, 4] })
    .type(PTR, '', 7)
    .type(FUNC_PROTO, '', 1, { vlen: 2, body: [0, 1, 0, 0] })
    .type(PTR, '', 9)
    .type(STRUCT, 'pair', 16, { vlen: 2, body: [w.name('where'), 2, 0, w.name('mask'), 3, 64] });
}

test('ENUM64 values parse signed and unsigned, and decode by name', () => {
  const { btf, problems } = parseBtf(sample().bytes());
  assert.deepEqual(problems, []);
  const offset = btf!.typeById(2)!;
  assert.ok(offset.kind === 'ENUM64');
  assert.deepEqual(offset.values, [{ name: 'BEFORE', value: -(2n ** 40n) }, { name: 'AFTER', value: 2n ** 40n }]);
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setBigInt64(0, -(2n ** 40n), true);
  new DataView(bytes.buffer).setBigUint64(8, 2n ** 64n - 1n, true);
  assert.deepEqual(formatValue(btf!, 11, bytes), { where: 'BEFORE', mask: 'ALL' });
  new DataView(bytes.buffer).setBigInt64(0, -7n, true);
  assert.deepEqual(formatValue(btf!, 11, bytes), { where: '-7', mask: 'ALL' }, 'no enumerator matches: the number');
});

test('typeName writes qualifiers, array pointers and function pointers as C declares them', () => {
  const { btf } = parseBtf(sample().bytes());
  assert.deepEqual([4, 5, 6, 7, 8, 9, 10, 11].map((id) => btf!.typeName(id)), [
    'int *', 'int *restrict', 'int *const', 'int[4]', 'int (*)[4]', 'int (int, ...)', 'int (*)(int, ...)', 'struct pair',
  ]);
  assert.deepEqual([5, 7, 8, 11].map((id) => btf!.sizeOf(id)), [8, 16, 8, 16]);
});

test('kfuncs: FUNCs tagged bpf_kfunc on the function itself, each once, sorted by name', () => {
  const w = sample();
  const GLOBAL = 1;
  const { btf } = parseBtf(w
    .type(FUNC, 'bpf_sum', 9, { vlen: GLOBAL }) // [12] int bpf_sum(int, ...): variadic
    .type(DECL_TAG, 'bpf_kfunc', 12, { body: [-1] })
    .type(DECL_TAG, 'bpf_kfunc', 12, { body: [-1] }) // the same tag twice (two BTF_ID sets)
    .type(FUNC, 'param_tagged', 9, { vlen: GLOBAL }) // [15]: a tag on a parameter does not make a kfunc
    .type(DECL_TAG, 'bpf_kfunc', 15, { body: [0] })
    .type(FUNC, 'other_tag', 9, { vlen: GLOBAL }) // [17]
    .type(DECL_TAG, 'bpf_fastcall', 17, { body: [-1] })
    .type(FUNC, 'bpf_add', 9, { vlen: GLOBAL }) // [19]
    .type(DECL_TAG, 'bpf_kfunc', 19, { body: [-1] })
    .type(DECL_TAG, 'bpf_kfunc', 1, { body: [-1] }) // a tag on something that is no FUNC
    .bytes());
  const variadic = [{ type: 'int', name: '' }, { type: '...', name: '' }];
  assert.deepEqual(listKfuncs(btf!), [
    { name: 'bpf_add', btfId: 19, returnType: 'int', params: variadic },
    { name: 'bpf_sum', btfId: 12, returnType: 'int', params: variadic },
  ]);
});

test('big-endian BTF parses to the same types', () => {
  const little = parseBtf(sample().bytes(true));
  const big = parseBtf(sample().bytes(false));
  assert.deepEqual(big.problems, []);
  assert.equal(big.btf!.littleEndian, false);
  assert.deepEqual(big.btf!.types, little.btf!.types);
});

test('a typedef loop is cut off instead of recursing forever', () => {
  const { btf } = parseBtf(new BtfWriter().type(TYPEDEF, 'a', 2).type(TYPEDEF, 'b', 1).bytes());
  assert.equal(btf!.resolve(1), undefined);
  assert.equal(btf!.sizeOf(1), undefined);
  assert.equal(typeof btf!.typeName(1), 'string');
  assert.equal(formatValue(btf!, 1, new Uint8Array(8)), null);
});

test('broken BTF yields problems that name the fix, never an exception', () => {
  const good = sample().bytes();
  for (let length = 0; length < good.length; length++) {
    const { problems } = parseBtf(good.subarray(0, length));
    assert.ok(problems.some((p) => p.severity === 'error'), `cut at ${length}`);
  }
  assert.match(parseBtf(new Uint8Array(64)).problems[0]!.message, /no BTF magic.*rebuild it with clang -g/);
  const unknownKind = new BtfWriter().type(INT, 'int', 4, { body: [32] }).type(25, 'future', 0).bytes();
  const parsed = parseBtf(unknownKind);
  assert.equal(parsed.btf!.types.length, 2, 'types before the unknown kind are kept');
  assert.match(parsed.problems[0]!.message, /type \[2\] has unknown kind 25/);
  const badName = sample().bytes();
  new DataView(badName.buffer).setUint32(24, 0xffff, true);
  assert.match(parseBtf(badName).problems[0]!.message, /type \[1\] names string offset 65535, outside the string section/);
});

test('broken .BTF.ext yields problems, never an exception', () => {
  const { strings } = parseBtf(sample().bytes());
  const ext = new Uint8Array(32 + 4 + 8 + 16);
  const view = new DataView(ext.buffer);
  view.setUint16(0, 0xeb9f, true);
  ext[2] = 1;
  [32, 0, 0, 0, 28].forEach((v, i) => view.setUint32(4 + i * 4, v, true));
  view.setUint32(32, 16, true);
  view.setUint32(36, 0, true);
  view.setUint32(40, 1, true);
  view.setUint32(44, 8 * 3, true);
  view.setUint32(56, (12 << 10) | 5, true);
  const parsed = parseBtfExt(ext, strings!, undefined);
  assert.deepEqual(parsed.problems, []);
  assert.deepEqual(parsed.lineInfo, [{ section: '', insnOff: 3, file: '', line: 12, column: 5, sourceText: '' }]);
  for (let length = 0; length < ext.length; length++) {
    assert.ok(parseBtfExt(ext.subarray(0, length), strings!, undefined).problems.length > 0, `cut at ${length}`);
  }
  view.setUint32(40, 1000, true);
  assert.match(parseBtfExt(ext, strings!, undefined).problems[0]!.message, /line_info .* claims 1000 records/);
});
