import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { compileBpf, tempDir } from '@ebpf-studio/test-support';
import { readBpfObject } from '../src/elf/read-object';

const SOURCES = join(__dirname, '..', '..', 'test', 'data', 'objects');
const outDir = tempDir();

function read(name: string, flags: string[] = []): ReturnType<typeof readBpfObject> {
  return readBpfObject(readFileSync(compileBpf(join(SOURCES, `${name}.bpf.c`), flags.length ? tempDir() : outDir, flags)));
}

/** The fields of each program a loader needs, without line info. */
function placements(name: string): object[] {
  return read(name).spec.programs.map(({ line: _line, file: _file, ...rest }) => rest);
}

test('xdp with a hash map: two programs in one section, a struct key', () => {
  const { spec, problems } = read('xdp_hash');
  assert.deepEqual(problems, []);
  assert.deepEqual(placements('xdp_hash'), [
    { name: 'xdp_count', section: 'xdp', sectionIndex: 3, insnOffset: 0, insnCount: 25, progType: 'xdp', expectedAttachType: 'xdp', sectionKnown: true, attachable: 'manual' },
    { name: 'xdp_drop_all', section: 'xdp', sectionIndex: 3, insnOffset: 25, insnCount: 2, progType: 'xdp', expectedAttachType: 'xdp', sectionKnown: true, attachable: 'manual' },
  ]);
  assert.deepEqual(spec.maps, [{
    name: 'flows', type: 'hash', typeId: 1, keySize: 16, valueSize: 8, maxEntries: 1024, flags: 0, pinning: 'none',
    keyType: 'struct flow_key', keyTypeId: spec.btf!.findByName('flow_key')!.id, valueType: '__u64', valueTypeId: spec.btf!.findByName('__u64')!.id,
  }]);
  assert.equal(spec.license, 'GPL');
  assert.equal(spec.hasBtf && spec.hasBtfExt && spec.hasLineInfo, true);
});

test('cgroup/connect4 with an array map and const volatile settings', () => {
  const { spec, problems } = read('connect4_array');
  assert.deepEqual(problems, []);
  assert.deepEqual(placements('connect4_array'), [{
    name: 'balance', section: 'cgroup/connect4', sectionIndex: 3, insnOffset: 0, insnCount: 39,
    progType: 'cgroup_sock_addr', expectedAttachType: 'cgroup_inet4_connect', sectionKnown: true, attachable: 'manual',
  }]);
  assert.deepEqual(spec.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries, m.keyType, m.valueType]),
    [['backends', 'array', 4, 8, 8, '__u32', 'struct backend']]);
  assert.deepEqual(spec.globals.map(({ typeId: _id, ...g }) => g), [
    { name: 'rewrites', section: '.bss', offset: 0, size: 8, typeName: '__u64', isConst: false, initialValue: '0' },
    { name: 'last_backend', section: '.data', offset: 0, size: 4, typeName: '__u32', isConst: false, initialValue: 7 },
    { name: 'backend_count', section: '.rodata', offset: 0, size: 4, typeName: 'const volatile __u32', isConst: true, initialValue: 2 },
    { name: 'vip_addr', section: '.rodata', offset: 4, size: 4, typeName: 'const volatile __u32', isConst: true, initialValue: 0x0a000001 },
  ]);
});

test('a big-endian object reads the same as a little-endian one', () => {
  const little = read('connect4_array').spec;
  const { spec: big, problems } = read('connect4_array', ['-target', 'bpfeb']);
  assert.deepEqual(problems, []);
  assert.equal(big.littleEndian, false);
  assert.deepEqual(big.programs, little.programs);
  assert.deepEqual(big.maps, little.maps);
  assert.deepEqual(big.globals, little.globals);
  assert.deepEqual(big.lineInfo, little.lineInfo);
});

test('static and global subprograms in .text are subprograms, not programs', () => {
  const { spec, problems } = read('subprog');
  assert.deepEqual(problems, []);
  assert.deepEqual(spec.programs.map((p) => [p.name, p.section, p.progType, p.insnCount]), [['tc_classify', 'tc', 'sched_cls', 10]]);
  assert.deepEqual(spec.subprograms, [
    { name: 'global_mark', sectionIndex: 2, insnOffset: 0, insnCount: 6, isGlobal: true },
    { name: 'classify', sectionIndex: 2, insnOffset: 6, insnCount: 9, isGlobal: false },
  ]);
  assert.equal(spec.sections[2]!.name, '.text');
});

test('a ring buffer map has no key or value, a tracepoint attaches itself', () => {
  const { spec, problems } = read('ringbuf');
  assert.deepEqual(problems, []);
  assert.deepEqual(spec.maps.map(({ name, type, typeId, keySize, valueSize, maxEntries, keyType, valueType }) =>
    ({ name, type, typeId, keySize, valueSize, maxEntries, keyType, valueType })),
  [{ name: 'events', type: 'ringbuf', typeId: 27, keySize: 0, valueSize: 0, maxEntries: 256 * 1024, keyType: undefined, valueType: undefined }]);
  assert.deepEqual(placements('ringbuf'), [{
    name: 'trace_exec', section: 'tracepoint/syscalls/sys_enter_execve', sectionIndex: 3, insnOffset: 0, insnCount: 19,
    progType: 'tracepoint', sectionKnown: true, attachable: 'auto',
  }]);
  assert.equal(spec.license, 'Dual BSD/GPL');
});

test('pinning by name, sizes given without types, map flags', () => {
  const { spec, problems } = read('pinned');
  assert.deepEqual(problems, []);
  assert.deepEqual(spec.maps.map((m) => [m.name, m.type, m.pinning, m.keySize, m.valueSize, m.maxEntries, m.flags, m.keyType ?? null]), [
    ['connect_calls', 'percpu_array', 'by_name', 4, 8, 1, 0, '__u32'],
    ['sized_only', 'hash', 'none', 4, 4, 64, 1, null],
  ]);
  assert.deepEqual(spec.programs.map((p) => [p.name, p.progType, p.attachable]), [['count_connect', 'kprobe', 'auto']]);
});

test('tc programs: SEC("tc") is known to libbpf 1.1, SEC("tcx/ingress") only since 1.3', () => {
  const { spec, problems } = read('tc_lpm');
  assert.deepEqual(placements('tc_lpm'), [
    { name: 'tc_filter', section: 'tc', sectionIndex: 3, insnOffset: 0, insnCount: 15, progType: 'sched_cls', sectionKnown: true, attachable: 'manual' },
    { name: 'tcx_pass', section: 'tcx/ingress', sectionIndex: 5, insnOffset: 0, insnCount: 2, progType: 'sched_cls', expectedAttachType: 'tcx_ingress', sectionKnown: false, knownSince: '1.3', attachable: 'manual' },
  ]);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.severity, 'warning');
  assert.match(problems[0]!.message, /SEC\("tcx\/ingress"\) needs libbpf 1\.3.*SEC\("tc"\)/);
  assert.deepEqual(spec.maps.map((m) => [m.name, m.type, m.keyType, m.keySize, m.flags]), [['allow', 'lpm_trie', 'struct lpm_key', 8, 1]]);
});

test('sockops and sk_msg share a sockhash', () => {
  const { spec, problems } = read('sockops_skmsg');
  assert.deepEqual(problems, []);
  assert.deepEqual(spec.programs.map((p) => [p.name, p.section, p.progType, p.expectedAttachType]), [
    ['record_sock', 'sockops', 'sock_ops', 'cgroup_sock_ops'],
    ['redirect_msg', 'sk_msg', 'sk_msg', 'sk_msg_verdict'],
  ]);
  assert.deepEqual(spec.maps.map((m) => [m.name, m.type, m.keyType, m.keySize, m.valueType, m.valueSize, m.maxEntries]),
    [['sock_map', 'sockhash', 'struct sock_key', 16, 'int', 4, 65535]]);
});

test('a static program and an unknown SEC name are reported with their fixes', () => {
  const { spec, problems } = read('static_prog');
  assert.deepEqual(spec.programs.map((p) => [p.name, p.progType, p.sectionKnown]), [['mystery', 'unspec', false]]);
  assert.deepEqual(problems.map((p) => p.severity), ['error', 'error']);
  assert.match(problems[0]!.message, /'hidden_prog' .* is static.*remove `static`/);
  assert.match(problems[1]!.message, /SEC\("not_a_real_type"\) is not a section name libbpf knows.*SEC\("xdp"\)/);
});

test('map definitions libbpf would reject are reported with the fix', () => {
  const { spec, problems } = read('bad_maps');
  assert.deepEqual(spec.maps.map((m) => [m.name, m.type, m.keySize, m.maxEntries, m.pinning]), [
    ['conflicting', 'hash', 4, 16, 'none'],
    ['misspelled', 'array', 4, 1, 'none'],
    ['untyped', 'unspec', 0, 1, 'none'],
  ]);
  assert.deepEqual(problems.map((p) => p.severity), ['error', 'error', 'error', 'error']);
  assert.match(problems[0]!.message, /'conflicting' declares key_size 8 but its key type __u32 is 4 bytes: keep only one/);
  assert.match(problems[1]!.message, /'misspelled' has unknown field 'max_entires'.*use one of type, max_entries/);
  assert.match(problems[2]!.message, /'untyped' has no type: add __uint\(type, BPF_MAP_TYPE_\.\.\.\)/);
  assert.match(problems[3]!.message, /'untyped' has pinning 7.*LIBBPF_PIN_BY_NAME/);
});

test('an object built without -g: programs are found, BTF and line info are reported missing', () => {
  const { spec, problems } = read('connect4_array', ['-g0']);
  assert.deepEqual(spec.programs.map((p) => p.name), ['balance']);
  assert.equal(spec.hasBtf, false);
  assert.equal(spec.hasLineInfo, false);
  assert.deepEqual(spec.maps, []);
  assert.deepEqual(spec.globals, []);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.severity, 'error', 'its .maps cannot be read without BTF');
  assert.match(problems[0]!.message, /no \.BTF section.*no line info: compile with -g/);
});

test('reading is deterministic', () => {
  const bytes = readFileSync(compileBpf(join(SOURCES, 'types.bpf.c'), outDir));
  const first = readBpfObject(bytes);
  const second = readBpfObject(bytes);
  assert.deepEqual({ ...second, spec: { ...second.spec, btf: undefined } }, { ...first, spec: { ...first.spec, btf: undefined } });
  assert.deepEqual(second.spec.btf!.types, first.spec.btf!.types);
});
