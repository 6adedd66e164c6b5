/** Classifies one line of a kernel verifier log (levels 1, 2 and 4). */
import { splitInsnBody } from './insn';
import type { VerifierStats } from './types';

export type LogLine =
  | { kind: 'insn'; idx: number; opcode: string; text: string; state?: string; message?: string }
  /** `0: R1=ctx() R10=fp0`, `17: frame1: R1=...`, `9: safe`: a state at an instruction, not the instruction. */
  | { kind: 'state'; idx: number }
  | { kind: 'source'; text: string; file: string; line: number }
  | { kind: 'from'; from: number; to: number }
  | { kind: 'func'; index: number; insn: number }
  | { kind: 'validating'; index: number; name: string }
  | { kind: 'stats'; stats: Partial<VerifierStats> }
  /** Level-2 bookkeeping that is neither an instruction nor a message (precision marks, liveness, frames). */
  | { kind: 'noise' }
  | { kind: 'message'; text: string };

const INSN = /^(\d+): \(([0-9a-f]{2})\) (.*)$/;
const STATE = /^(\d+): /;
/** libbpf 1.x replaces an instruction whose CO-RE relocation failed and logs it like this. */
const POISONED = /^(\d+): (<invalid CO-RE relocation>)$/;
const SOURCE = /^; (.*) @ (.*):(\d+)$/;
const FROM = /^from (\d+) to (\d+)(?: \([^)]*\))?:/;
const FUNC = /^func#(\d+) @(\d+)$/;
const VALIDATING = /^Validating (\S+?)\(\) func#(\d+)\.\.\.$/;
const PROCESSED = /^processed (\d+) insns \(limit (\d+)\)(.*)$/;
const COUNTER = /(\w+) (\d+)/g;
const VERIFICATION_TIME = /^verification time (\d+) usec$/;
const STACK_DEPTH = /^stack depth (\d+(?:\+\d+)*)$/;
const LIVENESS = /^\([\d,]+\) /;
const NOISE = /^(?:mark_precise: |Live regs before insn:|caller:$|callee:$|returning from callee:$|to caller at \d+:$|SCC )/;

const COUNTER_FIELDS: Record<string, keyof VerifierStats> = {
  max_states_per_insn: 'maxStatesPerInsn',
  total_states: 'totalStates',
  peak_states: 'peakStates',
  mark_read: 'markRead',
};

const NOISE_LINE: LogLine = { kind: 'noise' };

export function classifyLine(line: string): LogLine {
  const first = line.charCodeAt(0);
  if (first >= 0x30 && first <= 0x39) return numbered(line);
  if (line.length === 0 || first === 0x20 || first === 0x09) return NOISE_LINE;
  if (first === 0x3b /* ; */) return source(line);
  if (line.startsWith('from ')) {
    const m = FROM.exec(line);
    if (m) return { kind: 'from', from: Number(m[1]), to: Number(m[2]) };
  }
  if (line.startsWith('func#')) {
    const m = FUNC.exec(line);
    if (m) return { kind: 'func', index: Number(m[1]), insn: Number(m[2]) };
  }
  if (line.startsWith('Validating ')) {
    const m = VALIDATING.exec(line);
    if (m) return { kind: 'validating', name: m[1], index: Number(m[2]) };
  }
  const stats = statsLine(line);
  if (stats) return { kind: 'stats', stats };
  if (NOISE.test(line) || LIVENESS.test(line)) return NOISE_LINE;
  return { kind: 'message', text: line };
}

function numbered(line: string): LogLine {
  const poisoned = POISONED.exec(line);
  if (poisoned) return { kind: 'insn', idx: Number(poisoned[1]), opcode: '', text: poisoned[2]! };
  const insn = INSN.exec(line);
  if (insn) {
    const { text, state, message } = splitInsnBody(insn[3]);
    const rec: LogLine = { kind: 'insn', idx: Number(insn[1]), opcode: insn[2], text };
    if (state !== undefined) rec.state = state;
    if (message !== undefined) rec.message = message;
    return rec;
  }
  const state = STATE.exec(line);
  return state ? { kind: 'state', idx: Number(state[1]) } : { kind: 'message', text: line };
}

function source(line: string): LogLine {
  const m = SOURCE.exec(line);
  if (m) return { kind: 'source', text: m[1], file: m[2], line: Number(m[3]) };
  // Kernels before 5.x print the source text without a location.
  return { kind: 'source', text: line.slice(line.startsWith('; ') ? 2 : 1), file: '', line: 0 };
}

function statsLine(line: string): Partial<VerifierStats> | undefined {
  const first = line.charCodeAt(0);
  if (first === 0x70 /* p */) {
    const m = PROCESSED.exec(line);
    if (!m) return undefined;
    const stats: Partial<VerifierStats> = { insnsProcessed: Number(m[1]), insnLimit: Number(m[2]) };
    for (const c of m[3].matchAll(COUNTER)) {
      const field = COUNTER_FIELDS[c[1]];
      if (field) (stats as Record<string, number>)[field] = Number(c[2]);
    }
    return stats;
  }
  if (first === 0x76 /* v */) {
    const m = VERIFICATION_TIME.exec(line);
    return m ? { verificationTimeUsec: Number(m[1]) } : undefined;
  }
  if (first === 0x73 /* s */) {
    const m = STACK_DEPTH.exec(line);
    return m ? { stackDepth: m[1].split('+').map(Number) } : undefined;
  }
  return undefined;
}
