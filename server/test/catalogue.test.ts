import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CATALOGUE,
  UNKNOWN_LIBBPF,
  UNKNOWN_VERIFIER,
  classifyLines,
  classifyMessage,
  entryByCode,
  fallbackFor,
  type MessageSource,
} from '../src/engine/catalogue';

/** server/dist/test -> repository root */
const REPO = join(__dirname, '..', '..', '..');
const FIXTURES = join(REPO, 'server', 'test', 'fixtures', 'verify');

interface Sample {
  code: string;
  source: MessageSource;
  line: string;
  /** 'observed': seen on this machine (kernel 6.18, libbpf 1.1, clang 14); 'elsewhere': older kernels/tools or kernel source. */
  origin: 'observed' | 'elsewhere';
}

const s = (code: string, source: MessageSource, origin: Sample['origin'], ...lines: string[]): Sample[] =>
  lines.map((line) => ({ code, source, line, origin }));

/** Message lines, verbatim. 'observed' ones came from the fixtures in server/test/fixtures/verify and probes like them. */
const SAMPLES: readonly Sample[] = [
  ...s('BPF-NULL-DEREF', 'verifier', 'observed',
    "R0 invalid mem access 'map_value_or_null'",
    "R0 invalid mem access 'sock_or_null'",
    "R1 invalid mem access 'mem_or_null'",
    'R3 type=map_value_or_null expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_'),
  ...s('BPF-NULL-DEREF', 'verifier', 'elsewhere',
    "R6 invalid mem access 'ptr_or_null_'",
    'R1 pointer arithmetic on map_value_or_null prohibited, null-check it first',
    'Possibly NULL pointer passed to helper arg2',
    'Possibly NULL pointer passed to trusted arg0',
    'Possibly NULL pointer passed to trusted R1'),
  ...s('BPF-SPIN-LOCK', 'verifier', 'observed',
    'function calls are not allowed while holding a lock',
    'bpf_spin_unlock without taking a lock',
    'bpf_spin_lock cannot be accessed directly by load/store'),
  ...s('BPF-SPIN-LOCK', 'verifier', 'elsewhere', 'Locking two bpf_spin_locks are not allowed', 'bpf_spin_unlock of different lock'),
  ...s('BPF-SPIN-LOCK-HELD', 'verifier', 'observed', 'BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region'),
  ...s('BPF-SPIN-LOCK-HELD', 'verifier', 'elsewhere', 'BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region'),
  ...s('BPF-MAP-HELPER', 'verifier', 'observed', 'cannot pass map_type 4 into func bpf_map_lookup_elem#1', 'cannot pass map_type 3 into func bpf_map_update_elem#2'),
  ...s('BPF-READONLY-MAP', 'verifier', 'observed', 'write into map forbidden, value_size=4 off=0 size=4'),
  ...s('BPF-CALL-DEPTH', 'verifier', 'observed', 'the call stack of 9 frames is too deep'),
  ...s('BPF-CALL-DEPTH', 'verifier', 'elsewhere', 'the call stack of 9 frames is too deep !'),
  ...s('BPF-RELEASE-UNOWNED', 'verifier', 'observed', 'R1 must be referenced when passed to release function'),
  ...s('BPF-RELEASE-UNOWNED', 'verifier', 'elsewhere', 'reference has not been acquired before', 'release kernel function bpf_task_release expects refcounted PTR_TO_BTF_ID'),
  ...s('BPF-SCALAR-DEREF', 'verifier', 'observed', "R1 invalid mem access 'scalar'"),
  ...s('BPF-SCALAR-DEREF', 'verifier', 'elsewhere', "R1 invalid mem access 'inv'"),
  ...s('BPF-PKT-OOB', 'verifier', 'observed',
    'invalid access to packet, off=30 size=4, R1(id=0,off=30,r=14)',
    'invalid access to packet, off=16 size=2, R1(id=1,off=16,r=0)',
    'invalid access to packet, off=23 size=1, R1(id=0,off=23,r=14)',
    'R1 offset is outside of the packet'),
  ...s('BPF-MAP-VALUE-OOB', 'verifier', 'observed',
    'invalid access to map value, value_size=64 off=64 size=8',
    'invalid access to map value, value_size=64 off=64 size=1',
    'R0 max value is outside of the allowed memory range',
    'R0 min value is outside of the allowed memory range',
    'R0 unbounded memory access, make sure to bounds check any such access',
    'invalid access to memory, mem_size=8 off=8 size=4',
    'R0 pointer arithmetic of map value goes out of range, prohibited for !root'),
  ...s('BPF-MAP-VALUE-OOB', 'verifier', 'elsewhere',
    'R1 min value is negative, either use unsigned index or do a if (index >=0) check.'),
  ...s('BPF-STACK-OOB', 'verifier', 'observed',
    'invalid unbounded variable-offset write to stack R3',
    'invalid unbounded variable-offset read from stack R1',
    'invalid variable-offset write to stack R1 var_off=(0x0; 0x1f) off=-16 size=1',
    'invalid variable-offset write to stack R3 var_off=(0x0; 0xfffffff) off=-16 size=1',
    'invalid write to stack R10 off=8 size=4'),
  ...s('BPF-STACK-OOB', 'verifier', 'elsewhere',
    'invalid indirect access to stack R1 off=-520 size=8',
    'invalid stack off=-520 size=8',
    'R1 stack pointer arithmetic goes out of range, prohibited for !root'),
  ...s('BPF-UNINIT', 'verifier', 'observed',
    'R0 !read_ok',
    'invalid read from stack R2 off=-4 size=4',
    'invalid read from stack R2 off -8+6 size 8',
    'invalid read from stack R2 off -8+7 size 8'),
  ...s('BPF-UNINIT', 'verifier', 'elsewhere', 'invalid indirect read from stack R2 off -8+0 size 8'),
  ...s('BPF-CTX-ACCESS', 'verifier', 'observed',
    'invalid bpf_context access off=20 size=4',
    'invalid bpf_context access off=64 size=4',
    'invalid bpf_context access off=96 size=4'),
  ...s('BPF-CTX-ACCESS', 'verifier', 'elsewhere', 'dereference of modified ctx ptr R1 off=8 disallowed'),
  ...s('BPF-HELPER-UNAVAILABLE', 'verifier', 'observed',
    'program of this type cannot use helper bpf_redirect#23',
    'program of this type cannot use helper bpf_skb_load_bytes#26',
    'program of this type cannot use helper bpf_get_hash_recalc#34',
    'program of this type cannot use helper bpf_trace_printk#6',
    'program of this type cannot use helper bpf_skc_to_tcp_sock#137',
    'invalid func unknown#999'),
  ...s('BPF-HELPER-UNAVAILABLE', 'verifier', 'elsewhere',
    'unknown func bpf_redirect#23',
    'calling kernel function bpf_cgroup_from_id is not allowed',
    'helper call is not allowed in probe'),
  ...s('BPF-GPL-ONLY', 'verifier', 'observed',
    'cannot call GPL-restricted function from non-GPL compatible program',
    'cannot call kernel function from non-GPL compatible program'),
  ...s('BPF-GPL-ONLY', 'verifier', 'elsewhere', 'cannot call GPL only function from proprietary program'),
  ...s('BPF-REF-LEAK', 'verifier', 'observed',
    'Unreleased reference id=4 alloc_insn=43',
    'Unreleased reference id=2 alloc_insn=11',
    'BPF_EXIT instruction in main prog would lead to reference leak'),
  ...s('BPF-RET-RANGE', 'verifier', 'observed',
    'At program exit the register R0 has smin=0 smax=255 should have been in [0, 1]',
    'At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]',
    'At program exit the register R0 has unknown scalar value should have been in [0, 1]'),
  ...s('BPF-RET-RANGE', 'verifier', 'elsewhere',
    'At program exit the register R0 has value (0x2; 0x0) should have been in (0x0; 0x1)',
    'At subprogram exit the register R0 is not a scalar value'),
  ...s('BPF-TOO-COMPLEX', 'verifier', 'observed',
    'infinite loop detected at insn 12',
    'The sequence of 8193 jumps is too complex.',
    'BPF program is too large. Processed 1000001 insn'),
  ...s('BPF-TOO-COMPLEX', 'verifier', 'elsewhere', 'back-edge from insn 15 to 3', 'BPF program is too complex'),
  ...s('BPF-HELPER-ARG', 'verifier', 'observed',
    'R3 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_',
    'R1 type=scalar expected=map_ptr',
    "R3 unbounded memory access, use 'var &= const' or 'if (var < const)'",
    'arg#2 expected pointer to stack or const struct bpf_dynptr',
    'R4 invalid zero-sized read: u64=[0,4294967295]',
    'invalid zero-sized read',
    'Expected an initialized dynptr as arg #0'),
  ...s('BPF-HELPER-ARG', 'verifier', 'elsewhere',
    'R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, alloc_mem, buf',
    "R3 min value is negative, either use unsigned or 'var &= const'",
    'Dynptr has to be an uninitialized dynptr'),
  ...s('BPF-PTR-ARITH', 'verifier', 'observed',
    'math between pkt pointer and register with unbounded min value is not allowed',
    'value -2147483648 makes map_value pointer be out of bounds'),
  ...s('BPF-PTR-ARITH', 'verifier', 'elsewhere',
    'math between map_value pointer and 4294967296 is not allowed',
    'R1 pointer arithmetic on map_ptr prohibited',
    'R1 32-bit pointer arithmetic prohibited',
    'R1 pointer arithmetic with *= operator prohibited',
    'R1 bitwise operator &= on pointer prohibited',
    'R1 pointer += pointer prohibited',
    'R1 tried to subtract pointer from scalar',
    'map_value pointer offset 1073741824 is not allowed'),
  ...s('BPF-UNPRIV-PTR', 'verifier', 'observed',
    'R7 tried to add from different maps, paths or scalars, pointer arithmetic with it prohibited for !root',
    'R1 has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root',
    'R6 pointer -= pointer prohibited',
    'R2 variable stack access prohibited for !root, var_off=(0x0; 0xf) off=-16',
    'R1 leaks addr into map',
    'R0 leaks addr as return value'),
  ...s('BPF-UNPRIV-PTR', 'verifier', 'elsewhere', 'R1 variable offset stack access prohibited for !root, var_off=(0x0; 0xf)'),
  ...s('BPF-MISALIGNED', 'verifier', 'observed',
    'misaligned stack access off 0+0+-21 size 8',
    'misaligned stack access off 0+0+-38 size 4'),
  ...s('BPF-MISALIGNED', 'verifier', 'elsewhere',
    'misaligned packet access off 2+0+14+0 size 4',
    'misaligned value access off 0+0+2 size 4'),
  ...s('BPF-STACK-LIMIT', 'clang', 'observed',
    'xdp-payload-copy-stack-limit.bpf.c:11:5: error: Looks like the BPF stack limit of 512 bytes is exceeded. Please move large on stack variables into BPF per-cpu array map.'),
  ...s('BPF-STACK-LIMIT', 'clang', 'elsewhere',
    'error: <unknown>:0:0: in function xdp_find_tag i32 (%struct.xdp_md*): Looks like the BPF stack limit of 512 bytes is exceeded. Please move large on stack variables into BPF per-cpu array map.'),
  ...s('BPF-STACK-LIMIT', 'verifier', 'observed',
    'combined stack size of 3 calls is 576. Too large',
    'combined stack size of 3 calls is 608. Too large'),
  ...s('LIBBPF-CORE-RELO', 'verifier', 'observed',
    '7: <invalid CO-RE relocation>',
    'failed to resolve CO-RE relocation <byte_off> [25] struct tcp_sock.srtt (0:0 @ offset 0)',
    'failed to resolve CO-RE relocation <byte_off> [26] struct sock.__sk_common.skc_no_such_field (0:0:0 @ offset 0)'),
  ...s('LIBBPF-CORE-RELO', 'libbpf', 'elsewhere',
    "libbpf: prog 'sockops_rtt': relo #0: target candidate search failed for [25] struct tcp_sock: -12",
    "libbpf: prog 'sockops_rtt': relo #3: failed to relocate: -22",
    "libbpf: prog 'sockops_rtt': relo #1: failed to patch insn #12: -22",
    'libbpf: failed to perform CO-RE relocations: -22'),
  ...s('LIBBPF-NO-BTF', 'libbpf', 'observed',
    'libbpf: BTF is required, but is missing or corrupted.',
    "libbpf: prog 'count_connect': failed to find kernel BTF type ID of 'tcp_v4_connectt': -3",
    'libbpf: failed to iterate BTF objects: -1'),
  ...s('LIBBPF-NO-BTF', 'libbpf', 'elsewhere',
    'libbpf: failed to find valid kernel BTF',
    'libbpf: vmlinux BTF is not found',
    'libbpf: Error loading vmlinux BTF: -2',
    "libbpf: prog 'replace': failed to find BPF program (FD 7) BTF ID for 'handler': -2"),
  ...s('LIBBPF-UNKNOWN-SECTION', 'libbpf', 'observed',
    "libbpf: prog 'connect4_lb': missing BPF prog type, check ELF section name 'cgroup/connect_v4'",
    "libbpf: failed to guess program type from ELF section 'cgroup/connect_v4'",
    "libbpf: prog 'prog': unrecognized ELF section name 'xdp_gateway'"),
  ...s('LIBBPF-UNKNOWN-SECTION', 'libbpf', 'elsewhere',
    "libbpf: failed to guess attach type based on ELF section name 'cgroup/connect_v4'"),
  ...s('LIBBPF-LOAD-EPERM', 'libbpf', 'observed',
    'EPERM — tracepoint programs need CAP_PERFMON, which this loader does not hold',
    'EPERM although this loader holds CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN — kernel lockdown or a security module (LSM) forbids it, or this kernel cannot attach it'),
  ...s('LIBBPF-EXT-TARGET', 'libbpf', 'observed', "libbpf: prog 'replace_pick': attach program FD is not set"),
  ...s('LIBBPF-LEGACY-MAPS', 'libbpf', 'observed',
    "libbpf: elf: legacy map definitions in 'maps' section are not supported by libbpf v1.0+",
    'legacy map definitions in SEC("maps") are not supported by libbpf 1.x: declare maps as `struct { __uint(type, ...); __type(key, ...); ... } name SEC(".maps");`'),
  ...s('LIBBPF-MAP-CREATE', 'libbpf', 'observed', "map 'flows': failed to create: Invalid argument(-22)", "libbpf: map 'flow_packets': failed to create: Invalid argument(-22)"),
  ...s('LIBBPF-MAP-CREATE', 'libbpf', 'elsewhere', "libbpf: map 'flows': failed to create: -EINVAL"),
  ...s('LIBBPF-EXTERN', 'libbpf', 'observed',
    "libbpf: failed to find BTF for extern 'bpf_get_random_u32': -2",
    "libbpf: extern (func ksym) 'bpf_no_such_kfunc': not found in kernel or module BTFs",
    "libbpf: extern (var ksym) 'no_such_var': not found in kernel BTF",
    "libbpf: extern (func ksym) 'bpf_cgroup_from_id': func_proto [19] incompatible with kernel [63554]"),
  ...s('LIBBPF-EXTERN', 'libbpf', 'elsewhere',
    "libbpf: extern (func ksym) 'bpf_cgroup_release': func_proto [148] incompatible with vmlinux [125]"),
  ...s('CLANG-MISSING-HEADER', 'clang', 'observed', "xdp-vmlinux-include.bpf.c:6:10: fatal error: 'vmlinux.h' file not found"),
  ...s('CLANG-BUILTIN', 'clang', 'observed',
    "xdp-variable-memcpy.bpf.c:36:2: error: A call to built-in function 'memcpy' is not supported."),
  ...s('CLANG-ERROR', 'clang', 'observed',
    "tc-protocol-typo.bpf.c:23:22: error: use of undeclared identifier 'IPPROTO_TCPP'; did you mean 'IPPROTO_TCP'?"),
];

/** Lines that appear around real errors and must not be classified. */
const NOISE: readonly { source: MessageSource; line: string }[] = [
  { source: 'verifier', line: 'processed 20 insns (limit 1000000) max_states_per_insn 0 total_states 2 peak_states 2 mark_read 0' },
  { source: 'verifier', line: 'Global function prog() doesn\'t return scalar. Only those are supported.' },
  { source: 'verifier', line: '; __u32 dst = ip->daddr;\t// expect: BPF-PKT-OOB @ xdp-gateway-ip-unchecked.bpf.c:31' },
  { source: 'verifier', line: "; // R0 invalid mem access 'scalar' @ x.bpf.c:3" },
  { source: 'verifier', line: '11: (61) r1 = *(u32 *)(r1 +30)' },
  { source: 'verifier', line: '5: (85) call bpf_skc_to_tcp_sock#137          ; R0=ptr_or_null_tcp_sock(id=2)' },
  { source: 'verifier', line: 'from 12 to 15: R0=map_value_or_null(id=1,map=m,ks=4,vs=8) R10=fp0' },
  { source: 'verifier', line: 'cur state: R0=2 R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R6=4 R10=fp0 fp-8=0000????' },
  { source: 'verifier', line: 'verification time 81 usec' },
  { source: 'verifier', line: '-- END PROG LOAD LOG --' },
  { source: 'libbpf', line: "libbpf: prog 'prog': BPF program load failed: Permission denied" },
  { source: 'libbpf', line: "libbpf: prog 'count_connect': failed to prepare load attributes: -3" },
  { source: 'libbpf', line: "libbpf: failed to load object '/tmp/fx/out/r.bpf.o'" },
  { source: 'libbpf', line: "libbpf: prog 'prog': relo #0: no matching targets found" },
  { source: 'clang', line: 'p.bpf.c:3:5: note: could not determine the original source location for p.bpf.c:0:0' },
  { source: 'clang', line: "x.bpf.c:21:6: warning: implicit declaration of function 'bpf_get_random_u32' is invalid in C99 [-Wimplicit-function-declaration]" },
  { source: 'clang', line: '2 errors generated.' },
];

const SOURCES: readonly MessageSource[] = ['verifier', 'libbpf', 'clang'];

test('every sample classifies to its code', () => {
  for (const sample of SAMPLES) {
    assert.equal(classifyMessage(sample.source, sample.line)?.code, sample.code, `${sample.source}: ${sample.line}`);
  }
});

test('each sample matches the patterns of exactly one entry', () => {
  for (const sample of SAMPLES) {
    const matching = CATALOGUE.filter((e) => e.patterns.some((p) => p.test(sample.line))).map((e) => e.code);
    const expected = sample.source === 'clang' && sample.code !== 'CLANG-ERROR' ? [sample.code, 'CLANG-ERROR'] : [sample.code];
    assert.deepEqual(matching.sort(), expected.sort(), sample.line);
  }
});

test('every pattern matches a sample and every entry has an observed one', () => {
  for (const entry of CATALOGUE) {
    const own = SAMPLES.filter((x) => x.code === entry.code);
    assert.ok(own.some((x) => x.origin === 'observed'), `${entry.code} has no observed message`);
    for (const p of entry.patterns) assert.ok(own.some((x) => p.test(x.line)), `${entry.code}: ${p} matches no sample`);
  }
});

test('noise around errors is not classified', () => {
  for (const { source, line } of NOISE) assert.equal(classifyMessage(source, line), undefined, line);
  for (const source of SOURCES) assert.equal(classifyMessage(source, '   '), undefined);
});

test('codes are unique and entries are complete', () => {
  const codes = CATALOGUE.map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length);
  for (const e of [...CATALOGUE, UNKNOWN_VERIFIER, UNKNOWN_LIBBPF]) {
    assert.match(e.code, /^(BPF|LIBBPF|CLANG)-[A-Z0-9-]+$/);
    assert.equal(e.doc, `docs/errors/${e.code}.md`);
    for (const text of [e.title, e.explanation, e.fix]) assert.ok(text.length > 0 && !text.includes('\n'), e.code);
    assert.equal(entryByCode(e.code), e);
  }
  assert.equal(entryByCode('BPF-NO-SUCH'), undefined);
});

test('every entry has its documentation page with the verbatim messages', () => {
  for (const e of [...CATALOGUE, UNKNOWN_VERIFIER, UNKNOWN_LIBBPF]) {
    const path = join(REPO, e.doc);
    assert.ok(existsSync(path), `missing ${e.doc}`);
    const page = readFileSync(path, 'utf8');
    assert.ok(page.startsWith(`# ${e.code}`), `${e.doc} must start with '# ${e.code}'`);
    const observed = SAMPLES.filter((x) => x.code === e.code && x.origin === 'observed');
    assert.ok(observed.length === 0 || observed.some((x) => page.includes(x.line.replace(/^\S+\.bpf\.c:\d+:\d+: /, ''))), `${e.doc} quotes no observed message`);
  }
});

test('fallbacks by source', () => {
  assert.equal(fallbackFor('verifier'), UNKNOWN_VERIFIER);
  assert.equal(fallbackFor('libbpf'), UNKNOWN_LIBBPF);
  assert.equal(fallbackFor('clang').code, 'CLANG-ERROR');
  assert.equal(classifyMessage('verifier', 'some message from a future kernel'), undefined);
});

test('messages of one tool found in another tool output', () => {
  assert.equal(classifyMessage('verifier', 'failed to resolve CO-RE relocation <byte_off> [25] struct tcp_sock.srtt (0:0 @ offset 0)')?.code, 'LIBBPF-CORE-RELO');
  assert.equal(classifyMessage('verifier', 'combined stack size of 3 calls is 576. Too large')?.code, 'BPF-STACK-LIMIT');
  assert.equal(classifyMessage('libbpf', 'libbpf: some error: with a colon'), undefined);
});

test('classifyLines: a reference leak log names the acquire site', () => {
  const log = [
    "; struct bpf_sock *sk = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);\t// expect: BPF-REF-LEAK @ tc-sk-lookup-leak.bpf.c:39",
    '43: (85) call bpf_sk_lookup_tcp#84      ; R0=sock_or_null(id=4,ref_obj_id=4)',
    '52: (95) exit',
    'Unreleased reference id=4 alloc_insn=43',
    'BPF_EXIT instruction in main prog would lead to reference leak',
    'processed 53 insns (limit 1000000) max_states_per_insn 0 total_states 3 peak_states 3 mark_read 0',
  ];
  assert.deepEqual(classifyLines('verifier', log), { entry: entryByCode('BPF-REF-LEAK'), line: 'Unreleased reference id=4 alloc_insn=43' });
});

test('classifyLines: the first recognised line wins (map value before the caps-mode follow-up)', () => {
  const log = [
    '; c->packets[cluster] += 1;\t// expect: BPF-MAP-VALUE-OOB @ xdp-cluster-counters-off-by-one.bpf.c:32',
    '11: (0f) r0 += r6',
    'invalid access to map value, value_size=64 off=64 size=1',
    'R0 pointer arithmetic of map value goes out of range, prohibited for !root',
  ];
  assert.equal(classifyLines('verifier', log)?.line, 'invalid access to map value, value_size=64 off=64 size=1');
});

test('classifyLines: a specific clang error beats an earlier generic one', () => {
  const out = [
    "x.bpf.c:21:6: warning: implicit declaration of function 'foo' is invalid in C99 [-Wimplicit-function-declaration]",
    "x.bpf.c:23:22: error: use of undeclared identifier 'IPPROTO_TCPP'; did you mean 'IPPROTO_TCP'?",
    "x.bpf.c:36:2: error: A call to built-in function 'memcpy' is not supported.",
    '2 errors generated.',
  ];
  assert.equal(classifyLines('clang', out)?.entry.code, 'CLANG-BUILTIN');
  assert.equal(classifyLines('clang', out.slice(0, 2))?.entry.code, 'CLANG-ERROR');
  assert.equal(classifyLines('clang', [out[0], out[3]]), undefined);
});

test('classifyLines: the libbpf CO-RE lines inside a verifier log', () => {
  const log = [
    "; __u32 srtt = tp->srtt;\t// expect: LIBBPF-CORE-RELO @ sockops-rtt-core-field.bpf.c:28",
    '7: <invalid CO-RE relocation>',
    'failed to resolve CO-RE relocation <byte_off> [25] struct tcp_sock.srtt (0:0 @ offset 0)',
  ];
  assert.deepEqual(classifyLines('verifier', log), { entry: entryByCode('LIBBPF-CORE-RELO'), line: '7: <invalid CO-RE relocation>' });
});

test('the fixture corpus covers every code and uses only catalogue codes', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.bpf.c'));
  const used = new Set<string>();
  for (const f of files) {
    for (const m of readFileSync(join(FIXTURES, f), 'utf8').matchAll(/\/\/ expect: (\S+)/g)) used.add(m[1]);
  }
  for (const code of used) assert.ok(CATALOGUE.some((e) => e.code === code), `fixture uses unknown code ${code}`);
  for (const e of CATALOGUE) assert.ok(used.has(e.code), `no fixture for ${e.code}`);
});
