/** A verifier log (any level, any kernel) → every printed instruction with the state after it. */
import { basename } from 'node:path';
import { parseVerifierLog, type InsnRecord, type ParsedLog, type SourceRef } from '@ebpf-studio/libbpf-ts';
import { parseState, RegisterState } from './register-state';
import type { ExplorerInstruction } from './types';

/** The lines the log parser counts as instructions (`7: (79) r1 = ...`, libbpf's poisoned CO-RE insn). */
const INSN_LINE = /^\d+: (?:\([0-9a-f]{2}\) |<invalid CO-RE relocation>$)/;
/** Level 2: the registers changed since the last instruction, printed before instruction N (`12: R0=scalar()`). */
const STATE_LINE = /^\d+: ((?:frame\d+: )?(?:R\d|fp-).*)$/;
/** Level 2 around calls (`caller:` / `callee:` / `to caller at 12:`): a frame's state, indented. */
const INDENTED_STATE = /^ +((?:frame\d+: )?R\d+.*)$/;
/** The start of a walk from a pushed branch, with its whole state (`from 5 to 24: R0=2 ...`). */
const FROM_LINE = /^from \d+ to \d+(?: \([^)]*\))?: ?(.*)$/;
/** Level 1 glues the popped branch's whole state to a jump's line: state `23: R0=...`. */
const POPPED_STATE = /^\d+: (.*)$/;

export interface LogInstructions {
  log: ParsedLog;
  instructions: ExplorerInstruction[];
  /** The file (base name) whose lines `instructions[].line` are. */
  sourceFile?: string;
}

/**
 * Which file the instructions' lines belong to: `preferred` when the log's annotations name it (the kernel
 * prints base names), else the file of the first annotation with a line — the program's own function.
 */
function chooseSourceFile(records: readonly InsnRecord[], preferred: string | undefined): string | undefined {
  const wanted = preferred === undefined ? undefined : basename(preferred);
  let first: string | undefined;
  for (const r of records) {
    const ref = r.source;
    if (!ref || ref.line <= 0) continue;
    const name = basename(ref.file);
    if (name === wanted) return name;
    first ??= name;
  }
  return first;
}

function lines(text: string): string[] {
  const nul = text.indexOf('\0');
  return (nul >= 0 ? text.slice(0, nul) : text).split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function instruction(rec: InsnRecord, visits: number, sourceFile: string | undefined, previous: SourceRef | undefined): ExplorerInstruction {
  const out: ExplorerInstruction = { idx: rec.idx, text: rec.text, visits };
  const ref = rec.source;
  if (ref && ref.line > 0 && basename(ref.file) === sourceFile) out.line = ref.line;
  if (ref && ref !== previous) out.annotation = { text: ref.text, file: ref.file, line: ref.line };
  if (rec.state !== undefined) out.state = rec.state;
  return out;
}

/**
 * Every instruction record of the log in log order, each with the registers and stack of its frame after
 * it. `preferredSource` names the file the caller shows, so instructions get lines only in that file.
 */
export function instructionsFromLog(text: string, preferredSource?: string): LogInstructions {
  const log = parseVerifierLog(text, { tailRecords: Number.MAX_SAFE_INTEGER });
  const records = log.tail;
  const sourceFile = chooseSourceFile(records, preferredSource);
  const instructions: ExplorerInstruction[] = [];
  const state = new RegisterState();
  // The state after instruction k is complete when the next instruction or walk begins.
  let open: ExplorerInstruction | undefined;
  const close = (): void => {
    if (open) Object.assign(open, state.snapshot());
    open = undefined;
  };
  for (const line of lines(text)) {
    if (INSN_LINE.test(line)) {
      close();
      const rec = records[instructions.length];
      if (!rec) break;
      open = instruction(rec, log.visits.get(rec.idx) ?? 1, sourceFile, records[instructions.length - 1]?.source);
      instructions.push(open);
      if (rec.text.startsWith('call ')) state.clobberCallerSaved();
      if (rec.state === undefined) continue;
      const popped = POPPED_STATE.exec(rec.state);
      if (popped) {
        close();
        state.reset(parseState(popped[1]!));
      } else state.apply(parseState(rec.state));
      continue;
    }
    const from = line.startsWith('from ') ? FROM_LINE.exec(line) : null;
    if (from) {
      close();
      const whole = parseState(from[1]!);
      if (whole.registers.length > 0) state.reset(whole);
    } else if (line.startsWith('Validating ')) {
      close();
      state.clear();
    } else {
      const change = STATE_LINE.exec(line) ?? INDENTED_STATE.exec(line);
      if (change) state.apply(parseState(change[1]!));
    }
  }
  close();
  if (log.failingInsn && records[records.length - 1] === log.failingInsn) {
    const last = instructions[records.length - 1];
    if (last) last.isError = true;
  }
  return { log, instructions, ...(sourceFile !== undefined ? { sourceFile } : {}) };
}
