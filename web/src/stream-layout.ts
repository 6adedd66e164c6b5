/**
 * The instruction stream as text: one line per printed instruction, preceded by the source annotation
 * the kernel printed before it (as in the log), plus the maps between model lines and instructions.
 */
import type { ExplorerInstruction } from './data';

/** Instruction texts are padded to this width before the printed state, as the kernel does. */
const TEXT_WIDTH = 30;

export interface StreamLayout {
  text: string;
  /** Model line (1-based) of each instruction. */
  lineOfInsn: Int32Array;
  /** Instruction of each model line (index line - 1): the instruction itself, or the one an annotation line precedes. */
  insnOfLine: Int32Array;
}

function annotationLine(insn: ExplorerInstruction): string | undefined {
  const a = insn.annotation;
  if (!a) return undefined;
  return a.line > 0 ? `; ${a.text} @ ${a.file}:${a.line}` : `; (no source line) @ ${a.file}`;
}

function insnLine(insn: ExplorerInstruction): string {
  return insn.state === undefined ? insn.text : `${insn.text.padEnd(TEXT_WIDTH)} ; ${insn.state}`;
}

export function layoutStream(instructions: readonly ExplorerInstruction[]): StreamLayout {
  const lines: string[] = [];
  const insnOfLine: number[] = [];
  const lineOfInsn = new Int32Array(instructions.length);
  instructions.forEach((insn, i) => {
    const annotation = annotationLine(insn);
    if (annotation !== undefined) {
      lines.push(annotation);
      insnOfLine.push(i);
    }
    lines.push(insnLine(insn));
    insnOfLine.push(i);
    lineOfInsn[i] = lines.length;
  });
  return { text: lines.join('\n'), lineOfInsn, insnOfLine: Int32Array.from(insnOfLine) };
}

/** For each source line, the positions (in stream order) of its instructions. */
export function positionsByLine(instructions: readonly ExplorerInstruction[]): Map<number, number[]> {
  const byLine = new Map<number, number[]>();
  instructions.forEach((insn, i) => {
    if (insn.line === undefined) return;
    const list = byLine.get(insn.line);
    if (list) list.push(i);
    else byLine.set(insn.line, [i]);
  });
  return byLine;
}
