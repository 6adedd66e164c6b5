/** Facts the kernel states in its closing messages. */

const UNRELEASED = /^Unreleased reference id=(\d+) alloc_insn=(\d+)/;
const INFINITE_LOOP = /^infinite loop detected at insn (\d+)/;
const BACK_EDGE = /^back-edge from insn (\d+) to (\d+)/;
const TOO_LARGE = /^BPF program is too large\. Processed \d+ insn/;
/** Errors about the whole program, found after (or before) the instruction walk: no instruction caused them. */
const PROGRAM_WIDE = /^(?:combined stack size of \d+ calls|the call stack of \d+ frames is too deep|back-edge from insn|unreachable insn|jump out of range|last insn is not an exit or jmp)/;
/** Kernel 6.18 checks the call depth at the call itself, right after printing it; older kernels after the walk. */
const CALL_DEPTH = /^the call stack of \d+ frames is too deep/;

export interface Verdict {
  unreleasedRef?: { id: number; allocInsn: number };
  infiniteLoopInsn?: number;
  backEdgeFrom?: { from: number; to: number };
  tooLarge?: boolean;
  programWide: boolean;
  /** The error is the call depth, which newer kernels report at the call that went one frame too deep. */
  callDepth?: boolean;
}

export function readVerdict(errorLines: readonly string[]): Verdict {
  const verdict: Verdict = { programWide: false };
  for (const line of errorLines) {
    let m = UNRELEASED.exec(line);
    if (m && !verdict.unreleasedRef) verdict.unreleasedRef = { id: Number(m[1]), allocInsn: Number(m[2]) };
    m = INFINITE_LOOP.exec(line);
    if (m && verdict.infiniteLoopInsn === undefined) verdict.infiniteLoopInsn = Number(m[1]);
    m = BACK_EDGE.exec(line);
    if (m && !verdict.backEdgeFrom) verdict.backEdgeFrom = { from: Number(m[1]), to: Number(m[2]) };
    if (TOO_LARGE.test(line)) verdict.tooLarge = true;
    if (PROGRAM_WIDE.test(line)) verdict.programWide = true;
    if (CALL_DEPTH.test(line)) verdict.callDepth = true;
  }
  return verdict;
}
