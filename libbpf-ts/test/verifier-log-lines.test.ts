// Single lines and messages this kernel does not print for root (older kernels, unprivileged loaders).
import test from 'node:test';
import assert from 'node:assert/strict';
import { decodeInsnDest, jumpTarget, parseVerifierLog } from '../src/verifier-log';

test('decodeInsnDest: the register an instruction writes', () => {
  const cases: [string, string | undefined][] = [
    ['r1 = *(u64 *)(r0 +0)', 'r1'],
    ['r0 = 2', 'r0'],
    ['w0 = 1', 'r0'],
    ['r0 += r6', 'r0'],
    ['r6 s>>= 32', 'r6'],
    ['r2 <<= 3', 'r2'],
    ['w3 s/= w1', 'r3'],
    ['r1 = 0xffff888104381800', 'r1'],
    ['r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)', 'r0'],
    ['r1 = be16 r1', 'r1'],
    ['r0 = *(u8 *)skb[12]', 'r0'],
    ['call bpf_map_lookup_elem#1', 'r0'],
    ['call pc+6', 'r0'],
    ['*(u64 *)(r10 -8) = r1', undefined],
    ['lock *(u64 *)(r0 +0) += r6', undefined],
    ['if r0 == 0x0 goto pc+2', undefined],
    ['goto pc-9', undefined],
    ['exit', undefined],
  ];
  for (const [text, dest] of cases) assert.equal(decodeInsnDest(text), dest, text);
});

test('jumpTarget: idx + 1 + offset', () => {
  assert.equal(jumpTarget(24, 'if r1 > r0 goto pc-9'), 16);
  assert.equal(jumpTarget(8, 'if r2 != 0x42 goto pc-2'), 7);
  assert.equal(jumpTarget(19, 'goto pc+8'), 28);
  assert.equal(jumpTarget(5, 'gotol pc-6'), 0);
  assert.equal(jumpTarget(5, 'call pc+2'), undefined);
  assert.equal(jumpTarget(5, 'r0 = 1'), undefined);
});

const PROCESSED = 'processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0';

test('back-edge (loader without CAP_BPF): reported by the CFG check before any instruction', () => {
  const log = parseVerifierLog(`; while (*flag != 0x42) @ spin.bpf.c:14\nback-edge from insn 8 to 7\n${PROCESSED}\n`);
  assert.deepEqual(log.backEdgeFrom, { from: 8, to: 7 });
  assert.equal(log.error, 'back-edge from insn 8 to 7');
  assert.equal(log.failingInsn, undefined);
  assert.deepEqual(log.failingSource, { text: 'while (*flag != 0x42)', file: 'spin.bpf.c', line: 14 });
  assert.equal(log.truncated, false);
});

test('messages of older kernels', () => {
  const insn = '0: R1=ctx() R10=fp0\n; bpf_get_current_comm(comm, 16); @ x.bpf.c:9\n0: (85) call bpf_get_current_comm#16\n';
  const unknown = parseVerifierLog(`${insn}unknown func bpf_get_current_comm#16\n${PROCESSED}\n`);
  assert.equal(unknown.error, 'unknown func bpf_get_current_comm#16');
  assert.equal(unknown.failingInsn?.text, 'call bpf_get_current_comm#16');
  assert.equal(unknown.failingSource?.line, 9);
  const indirect = parseVerifierLog(`${insn}invalid indirect read from stack R2 off -8+0 size 8\n${PROCESSED}\n`);
  assert.equal(indirect.error, 'invalid indirect read from stack R2 off -8+0 size 8');
  // Kernels before 5.x print the source line without a location.
  const bare = parseVerifierLog('0: (b7) r0 = 0\n; return 0;\n1: (95) exit\nR0 !read_ok\n');
  assert.deepEqual(bare.failingSource, { text: 'return 0;', file: '', line: 0 });
});

test('level-2 lines: frames, speculative paths, liveness, precision', () => {
  const log = parseVerifierLog(
    [
      'func#0 @0',
      'func#1 @6',
      '0: R1=ctx() R10=fp0',
      '0: (b7) r0 = 0                        ; R0_w=0',
      '1: (85) call pc+4',
      'caller:',
      ' R10=fp0',
      'callee:',
      ' frame1: R1=ctx() R10=fp0',
      '6: frame1: R1=ctx() R10=fp0',
      '6: (b7) r0 = 7                        ; frame1: R0_w=7',
      '7: (95) exit',
      'returning from callee:',
      ' frame1: R0_w=7 R10=fp0',
      'to caller at 2:',
      ' R0_w=7 R10=fp0',
      '',
      'from 7 to 2: R0_w=7 R10=fp0',
      '2: (bf) r1 = r0                       ; R0_w=7 R1_w=7',
      'mark_precise: frame0: last_idx 2 first_idx 0 subseq_idx -1 ',
      '(0) frame 0 insn 2 +live -8 ',
      '(0) live stack update done in 2 iterations',
      'SCC enter (1)',
      '3: (15) if r1 == 0x0 goto pc+1        ; R1_w=7',
      '4: (b7) r0 = 1                        ; R0_w=1',
      '5: (95) exit',
      '',
      'from 3 to 5 (speculative execution): R0_w=7 R1_w=0 R10=fp0',
      '5: R0_w=7 R1_w=0 R10=fp0',
      '5: (95) exit',
      'At program exit the register R0 has smin=7 smax=7 should have been in [0, 1]',
      PROCESSED,
    ].join('\n'),
  );
  assert.deepEqual(log.errorLines, ['At program exit the register R0 has smin=7 smax=7 should have been in [0, 1]']);
  assert.deepEqual(log.funcs, [{ index: 0, insn: 0 }, { index: 1, insn: 6 }]);
  assert.deepEqual(log.tail.map((r) => r.idx), [0, 1, 6, 7, 2, 3, 4, 5, 5]);
  assert.equal(log.tail[2].state, 'frame1: R0_w=7');
  assert.equal(log.tail[4].resumedFrom, 7);
  assert.equal(log.failingInsn?.resumedFrom, 3);
  // Back through the branch at 3 and the return from the callee: r0 was set to 7 at insn 6.
  assert.equal(log.r0Setter?.idx, 6);
  assert.equal(log.visits.get(5), 2);
});

test('r0Setter stops at the entry of a subprogram', () => {
  const log = parseVerifierLog(['0: (b7) r0 = 1', '1: (85) call pc+2', '4: (07) r0 += 1', "R0 !read_ok"].join('\n'));
  assert.equal(log.failingInsn?.idx, 4);
  assert.equal(log.r0Setter, undefined);
});

test('an empty log, and a log of messages only', () => {
  const empty = parseVerifierLog('');
  assert.equal(empty.truncated, false);
  assert.equal(empty.lineCount, 0);
  assert.equal(empty.error, undefined);
  const only = parseVerifierLog(`the call stack of 9 frames is too deep !\n${PROCESSED}`);
  assert.equal(only.truncated, false);
  assert.equal(only.failingInsn, undefined);
  assert.equal(only.stats?.insnsProcessed, 0);
});

test('the call depth: at the call that went too deep (kernel 6.x), program-wide after the walk (older kernels)', () => {
  const atCall = parseVerifierLog(['25: (85) call pc+2', '; static __noinline int f6(int x) { return f7(x) + 1; } @ r.bpf.c:20', '27: (85) call pc+2', 'the call stack of 9 frames is too deep', PROCESSED].join('\n'));
  assert.equal(atCall.failingInsn?.idx, 27);
  assert.equal(atCall.failingSource?.line, 20);
  const afterWalk = parseVerifierLog(['27: (85) call pc+2', '30: (95) exit', 'the call stack of 9 frames is too deep !', PROCESSED].join('\n'));
  assert.equal(afterWalk.failingInsn, undefined, 'the last instruction printed is not what went too deep');
});
