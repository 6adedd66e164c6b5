// Parses the real verifier logs captured from the kernel under test/data/logs (see capture.sh there).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseVerifierLog, type ParsedLog } from '../src/verifier-log';

const LOG_DIR = join(__dirname, '..', '..', 'test', 'data', 'logs');

interface Expected {
  error?: string;
  /** Index and text of the failing instruction; null: the error is about the whole program. */
  failing?: { idx: number; text: string } | null;
  /** Line of the failing source annotation (the file is always <name>.bpf.c). */
  line?: number;
  /** Index of the instruction that set r0 on the failing path; null: none in the log. */
  r0Setter?: number | null;
  unreleasedRef?: { id: number; allocInsn: number; allocLine: number };
  insnsProcessed: number;
  infiniteLoopInsn?: number;
  tooLarge?: boolean;
  truncated?: boolean;
  backEdges?: { from: number; to: number }[];
  funcs?: ParsedLog['funcs'];
}

const ACCESS_NULL = "R0 invalid mem access 'map_value_or_null'";
const PACKET = 'invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)';
const SCALAR_KEY = 'R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_';
const UNBOUNDED = 'math between map_value pointer and register with unbounded min value is not allowed';
const RETVAL = 'At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]';
const GPL = 'cannot call GPL-restricted function from non-GPL compatible program';
const LOOP = { idx: 25, text: 'r4 &= 1' };

/** Both levels of a failure name the same verdict; level 2 walks more paths first. */
const BOTH_LEVELS: Record<string, Expected> = {
  'map-null': { error: ACCESS_NULL, failing: { idx: 7, text: 'r1 = *(u64 *)(r0 +0)' }, line: 18, r0Setter: 6, insnsProcessed: 7 },
  'pkt-bounds': { error: PACKET, failing: { idx: 1, text: 'r2 = *(u8 *)(r1 +12)' }, line: 12, r0Setter: null, insnsProcessed: 2 },
  'scalar-key': { error: SCALAR_KEY, failing: { idx: 3, text: 'call bpf_map_delete_elem#3' }, line: 17, r0Setter: null, insnsProcessed: 3 },
  'unbounded-index': { error: UNBOUNDED, failing: { idx: 17, text: 'r0 += r6' }, line: 31, r0Setter: 12, insnsProcessed: 17 },
  'wrong-helper': {
    error: 'program of this type cannot use helper bpf_skb_load_bytes#26',
    failing: { idx: 5, text: 'call bpf_skb_load_bytes#26' },
    line: 10,
    r0Setter: null,
    insnsProcessed: 6,
  },
  'gpl-only': { error: GPL, failing: { idx: 6, text: 'call bpf_trace_printk#6' }, line: 8, r0Setter: null, insnsProcessed: 6 },
  'bad-retval': { error: RETVAL, failing: { idx: 4, text: 'exit' }, line: 11, r0Setter: 1, insnsProcessed: 6 },
  'uninit-stack': {
    error: 'invalid read from stack R10 off=-16 size=8',
    failing: { idx: 3, text: 'r1 = *(u64 *)(r10 -16)' },
    line: 11,
    r0Setter: 2,
    insnsProcessed: 4,
  },
  'uninit-key': {
    error: 'invalid read from stack R2 off=-8 size=8',
    failing: { idx: 8, text: 'call bpf_map_lookup_elem#1' },
    line: 19,
    r0Setter: null,
    insnsProcessed: 18,
  },
  'ctx-access': { error: 'invalid bpf_context access off=48 size=4', failing: { idx: 0, text: 'r1 = *(u32 *)(r1 +48)' }, line: 10, insnsProcessed: 1 },
  'misaligned-stack': {
    error: 'misaligned stack access off 0+0+-13 size 8',
    failing: { idx: 1, text: '*(u64 *)(r10 -13) = r1' },
    line: 10,
    insnsProcessed: 2,
  },
  'deep-stack': { error: 'combined stack size of 3 calls is 608. Too large', failing: null, insnsProcessed: 41 },
  'unknown-helper': { error: 'invalid func unknown#999', failing: { idx: 0, text: 'call unknown#999' }, line: 10, insnsProcessed: 1 },
  'infinite-loop': {
    error: 'infinite loop detected at insn 8',
    failing: { idx: 7, text: 'r2 = *(u8 *)(r1 +0)' },
    line: 14,
    r0Setter: 6,
    infiniteLoopInsn: 8,
    backEdges: [{ from: 8, to: 7 }],
    insnsProcessed: 21,
  },
  'global-func': {
    error: 'R1 pointer arithmetic on mem_or_null prohibited, null-check it first',
    failing: { idx: 21, text: 'r1 += r2' },
    line: 7,
    r0Setter: null,
    insnsProcessed: 23,
  },
};

const EXPECTED: Record<string, Expected> = {
  ...Object.fromEntries(Object.entries(BOTH_LEVELS).flatMap(([name, e]) => [[`${name}.l1`, e], [`${name}.l2`, e]])),
  // Level 1 reports the exit of the leaking path; the line of that exit was printed on a path the
  // kernel rewound, so level 1 shows the branch's line (24) where level 2 shows the closing brace (28).
  // r0 is set by the copy `r0 = r1` (23), followed back to where the value was made: `r1 = 1` (14).
  'ref-leak.l1': {
    error: 'Unreleased reference id=2 alloc_insn=5',
    failing: { idx: 24, text: 'exit' },
    line: 24,
    r0Setter: 14,
    unreleasedRef: { id: 2, allocInsn: 5, allocLine: 18 },
    insnsProcessed: 26,
  },
  'ref-leak.l2': {
    error: 'Unreleased reference id=2 alloc_insn=5',
    failing: { idx: 24, text: 'exit' },
    line: 28,
    r0Setter: 14,
    unreleasedRef: { id: 2, allocInsn: 5, allocLine: 18 },
    insnsProcessed: 26,
  },
  'global-func.l1': {
    ...BOTH_LEVELS['global-func'],
    funcs: [{ index: 1, name: 'port_of', insn: 19 }],
  },
  'global-func.l2': {
    ...BOTH_LEVELS['global-func'],
    funcs: [{ index: 0, insn: 0 }, { index: 1, insn: 19, name: 'port_of' }],
  },
  'deep-stack.l2': {
    ...BOTH_LEVELS['deep-stack'],
    funcs: [{ index: 0, insn: 0 }, { index: 1, insn: 17 }, { index: 2, insn: 29 }],
  },
  'loop-complexity.l1.head': { insnsProcessed: 0, backEdges: [{ from: 24, to: 16 }] },
  'loop-complexity.l1.tail': {
    error: 'BPF program is too large. Processed 1000001 insn',
    failing: LOOP,
    line: 22,
    r0Setter: 22,
    tooLarge: true,
    truncated: true,
    backEdges: [{ from: 24, to: 16 }],
    insnsProcessed: 1000001,
  },
  'loop-complexity.l2.tail': {
    error: 'BPF program is too large. Processed 1000001 insn',
    failing: LOOP,
    line: 22,
    r0Setter: 22,
    tooLarge: true,
    truncated: true,
    backEdges: [{ from: 24, to: 16 }],
    insnsProcessed: 1000001,
  },
  'accepted.l4': { insnsProcessed: 30 },
};

function check(name: string, log: ParsedLog, e: Expected): void {
  const file = `${name.replace(/\..*$/, '')}.bpf.c`;
  assert.equal(log.error, e.error);
  if (e.error !== undefined) assert.equal(log.errorLines[0], e.error);
  if (e.failing === null) assert.equal(log.failingInsn, undefined);
  if (e.failing) {
    assert.ok(log.failingInsn, 'a failing instruction');
    assert.equal(log.failingInsn.idx, e.failing.idx);
    assert.equal(log.failingInsn.text, e.failing.text);
  }
  if (e.line !== undefined) {
    assert.equal(log.failingSource?.file, file);
    assert.equal(log.failingSource?.line, e.line);
  }
  if (e.r0Setter !== undefined) assert.equal(log.r0Setter?.idx, e.r0Setter ?? undefined);
  if (e.unreleasedRef) {
    assert.equal(log.unreleasedRef?.id, e.unreleasedRef.id);
    assert.equal(log.unreleasedRef?.allocInsn, e.unreleasedRef.allocInsn);
    assert.equal(log.unreleasedRef?.allocSource?.line, e.unreleasedRef.allocLine);
    assert.equal(log.unreleasedRef?.allocSource?.file, file);
  } else {
    assert.equal(log.unreleasedRef, undefined);
  }
  assert.equal(log.stats?.insnsProcessed ?? 0, e.insnsProcessed);
  if (e.insnsProcessed > 0) assert.equal(log.stats?.insnLimit, 1000000);
  assert.equal(log.infiniteLoopInsn, e.infiniteLoopInsn);
  assert.equal(log.tooLarge, e.tooLarge);
  assert.equal(log.truncated, e.truncated ?? false);
  assert.deepEqual(log.backEdges, e.backEdges ?? []);
  if (e.funcs) assert.deepEqual(log.funcs, e.funcs);
}

test('every captured log has expectations', () => {
  const logs = readdirSync(LOG_DIR).filter((f) => f.endsWith('.log')).map((f) => f.slice(0, -'.log'.length));
  assert.deepEqual(logs.sort(), Object.keys(EXPECTED).sort());
  const sources = new Set(readdirSync(LOG_DIR).filter((f) => f.endsWith('.bpf.c')));
  for (const name of logs) assert.ok(sources.has(`${name.replace(/\..*$/, '')}.bpf.c`), `${name} has its source`);
});

for (const [name, expected] of Object.entries(EXPECTED)) {
  test(`real log ${name}`, () => {
    const text = readFileSync(join(LOG_DIR, `${name}.log`), 'utf8');
    const log = parseVerifierLog(text);
    check(name, log, expected);
    assert.equal(log.byteCount, Buffer.byteLength(text));
  });
}

test('level-4 log of an accepted program: statistics only', () => {
  const log = parseVerifierLog(readFileSync(join(LOG_DIR, 'accepted.l4.log'), 'utf8'));
  assert.deepEqual(log.stats, {
    insnsProcessed: 30,
    insnLimit: 1000000,
    maxStatesPerInsn: 0,
    totalStates: 2,
    peakStates: 2,
    markRead: 0,
    verificationTimeUsec: log.stats?.verificationTimeUsec,
    stackDepth: [0, 16],
  });
  assert.ok((log.stats?.verificationTimeUsec ?? 0) > 0);
  assert.deepEqual(log.errorLines, []);
  assert.equal(log.tail.length, 0);
});

test('instruction records: text, opcode, state, source', () => {
  const log = parseVerifierLog(readFileSync(join(LOG_DIR, 'map-null.l1.log'), 'utf8'));
  const call = log.tail.find((r) => r.idx === 6);
  assert.deepEqual(call, {
    idx: 6,
    text: 'call bpf_map_lookup_elem#1',
    opcode: '85',
    state: 'R0=map_value_or_null(id=1,map=counters,ks=4,vs=8)',
    source: { text: '__u64 *value = bpf_map_lookup_elem(&counters, &key);', file: 'map-null.bpf.c', line: 16 },
  });
  assert.equal(log.failingSource?.text, '*value += 1; /* compteur de paquets reçus → +1 */');
  // `;  @ map-null.bpf.c:0`: an annotation without source text.
  assert.deepEqual(log.sourceByInsn.get(3), { text: '', file: 'map-null.bpf.c', line: 0 });
  assert.deepEqual([...log.sourceByInsn.keys()], [0, 3, 4, 7]);
  assert.deepEqual([...log.visits.values()], [1, 1, 1, 1, 1, 1, 1]);
});

test('level 1 prints the popped branch state after the jump; level 2 resumes with "from X to Y"', () => {
  const l1 = parseVerifierLog(readFileSync(join(LOG_DIR, 'bad-retval.l1.log'), 'utf8'));
  const jump = l1.tail.find((r) => r.idx === 2);
  assert.equal(jump?.text, 'if r1 > 0x5dc goto pc+1');
  assert.match(jump?.state ?? '', /^4: R0=2 R1=scalar\(/);
  const l2 = parseVerifierLog(readFileSync(join(LOG_DIR, 'bad-retval.l2.log'), 'utf8'));
  assert.deepEqual(l2.tail.map((r) => r.idx), [0, 1, 2, 3, 4, 4]);
  assert.equal(l2.failingInsn?.resumedFrom, 2);
  assert.equal(l2.visits.get(4), 2);
});

test('level 2 bookkeeping lines are not messages', () => {
  const log = parseVerifierLog(readFileSync(join(LOG_DIR, 'unbounded-index.l2.log'), 'utf8'));
  assert.deepEqual(log.errorLines, [UNBOUNDED]);
  const deep = parseVerifierLog(readFileSync(join(LOG_DIR, 'deep-stack.l2.log'), 'utf8'));
  assert.deepEqual(deep.errorLines, ['combined stack size of 3 calls is 608. Too large']);
  // The indented "Live regs before insn:" listing is not counted as visits.
  assert.equal(deep.visits.get(0), 1);
});
