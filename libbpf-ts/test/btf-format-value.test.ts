import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { compileBpf, tempDir } from '@ebpf-studio/test-support';
import { formatValue } from '../src/btf/format-value';
import { readBpfObject } from '../src/elf/read-object';

const SOURCES = join(__dirname, '..', '..', 'test', 'data', 'objects');

function read(name: string, flags: string[] = []): ReturnType<typeof readBpfObject>['spec'] {
  return readBpfObject(readFileSync(compileBpf(join(SOURCES, `${name}.bpf.c`), tempDir(), flags))).spec;
}

/** The initial value of `cfg` in types.bpf.c, as the C initialiser spells it. */
const CFG = {
  mode: 'MODE_AUTO',
  name: 'edge',
  limit: '18446744073709551615',
  offset: '-5',
  shift: -3,
  strict: true,
  flags: { enabled: 1, level: 5, delta: -2 },
  addr: { v4: 0x04030201, bytes: [1, 2, 3, 4] },
  ratio: 0.5,
  ports: [80, 443, 8080],
  user_ptr: '0x0',
};

test('globals decode per BTF: enums by name, 64-bit as strings, bitfields, unions, floats, char arrays', () => {
  const spec = read('types');
  const cfg = spec.globals.find((g) => g.name === 'cfg')!;
  assert.deepEqual(cfg.initialValue, CFG);
  assert.equal(spec.globals.find((g) => g.name === 'forward_only')!.initialValue, 1);
  assert.equal(spec.globals.find((g) => g.name === 'pending')!.initialValue, '0x0');
});

test('a big-endian object decodes to the same values, bitfields included', () => {
  const spec = read('types', ['-target', 'bpfeb']);
  const cfg = spec.globals.find((g) => g.name === 'cfg')!;
  assert.deepEqual(cfg.initialValue, { ...CFG, addr: { v4: 0x04030201, bytes: [4, 3, 2, 1] } });
});

test('a DATASEC decodes to an object of its variables', () => {
  const spec = read('connect4_array');
  const rodata = spec.btf!.findByName('.rodata', 'DATASEC')!;
  const section = spec.sections.find((s) => s.name === '.rodata')!;
  const bytes = readFileSync(compileBpf(join(SOURCES, 'connect4_array.bpf.c'), tempDir())).subarray(section.offset, section.offset + section.size);
  assert.deepEqual(formatValue(spec.btf!, rodata.id, bytes), { backend_count: 2, vip_addr: 0x0a000001 });
});

test('map keys and values decode from raw bytes, as a map dump would give them', () => {
  const spec = read('xdp_hash');
  const flows = spec.maps[0]!;
  const key = new Uint8Array(16);
  new DataView(key.buffer).setUint32(0, 0x0100007f, true);
  new DataView(key.buffer).setUint16(8, 443, true);
  key[12] = 6;
  assert.deepEqual(formatValue(spec.btf!, flows.keyTypeId!, key), { saddr: 0x0100007f, daddr: 0, sport: 443, dport: 0, proto: 6 });
  const value = new Uint8Array(8);
  new DataView(value.buffer).setBigUint64(0, 2n ** 40n, true);
  assert.equal(formatValue(spec.btf!, flows.valueTypeId!, value), String(2 ** 40));
});

test('too few bytes give null (or shorter arrays and strings) for the parts that are missing', () => {
  const spec = read('types');
  const cfg = spec.globals.find((g) => g.name === 'cfg')!;
  const partial = formatValue(spec.btf!, cfg.typeId, new Uint8Array(12)) as Record<string, unknown>;
  assert.equal(partial.mode, 'MODE_OFF');
  assert.equal(partial.name, '');
  assert.equal(partial.limit, null);
  assert.deepEqual(partial.ports, []);
  assert.deepEqual(formatValue(spec.btf!, cfg.typeId, new Uint8Array(0)), {
    mode: null, name: '', limit: null, offset: null, shift: null, strict: null,
    flags: { enabled: null, level: null, delta: null }, addr: { v4: null, bytes: [] }, ratio: null, ports: [], user_ptr: null,
  });
  assert.equal(formatValue(spec.btf!, 999999, new Uint8Array(8)), null);
  assert.equal(formatValue(spec.btf!, 0, new Uint8Array(8)), null, 'void has no value');
});
