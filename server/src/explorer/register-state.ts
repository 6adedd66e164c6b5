/**
 * The verifier's register and stack state along the log, rebuilt from what it printed. At level 2 a
 * kernel prints only what an instruction touched (`; R1=pkt(r=14) R3=8`) and the whole state where a
 * walk starts (`from 5 to 24: R0=2 ...`), so the state after an instruction is the last whole state plus
 * every change since. Registers the kernel stops printing because they became uninitialised (R0-R5
 * after a call) are dropped by the caller through `clobberCallerSaved`.
 */

export interface ParsedState {
  /** The call frame the state belongs to (`frame1: ...`); 0 when not named. */
  frame: number;
  registers: [string, string][];
  stack: [string, string][];
}

const REGISTER = /^(R\d+)(?:_[rwD]+)?$/;
const STACK_SLOT = /^(fp-?\d+)(?:_[rwD]+)?$/;
const FRAME = /^frame(\d+):$/;

/** `R1=ctx() R2=scalar(smin=0,var_off=(0x0; 0xff)) fp-8=mmmm????`: tokens split at spaces outside parentheses. */
function tokens(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x28 /* ( */) depth++;
    else if (c === 0x29 /* ) */) depth = Math.max(0, depth - 1);
    else if (c === 0x20 && depth === 0) {
      if (i > start) out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (text.length > start) out.push(text.slice(start));
  return out;
}

export function parseState(text: string): ParsedState {
  const state: ParsedState = { frame: 0, registers: [], stack: [] };
  for (const token of tokens(text)) {
    const frame = FRAME.exec(token);
    if (frame) {
      state.frame = Number(frame[1]);
      continue;
    }
    const eq = token.indexOf('=');
    if (eq <= 0) continue;
    const key = token.slice(0, eq);
    const value = token.slice(eq + 1);
    const reg = REGISTER.exec(key);
    if (reg) state.registers.push([reg[1]!, value]);
    else {
      const slot = STACK_SLOT.exec(key);
      if (slot) state.stack.push([slot[1]!, value]);
    }
  }
  return state;
}

export interface Snapshot {
  registers?: Record<string, string>;
  stack?: Record<string, string>;
}

interface Frame {
  registers: Map<string, string>;
  stack: Map<string, string>;
}

const CALLER_SAVED = ['R0', 'R1', 'R2', 'R3', 'R4', 'R5'];

function byRegisterNumber(a: [string, string], b: [string, string]): number {
  return Number(a[0].slice(1)) - Number(b[0].slice(1));
}

/** Stack slots from the frame pointer down: fp-8, fp-16, ... */
function byStackOffset(a: [string, string], b: [string, string]): number {
  return Number(b[0].slice(2)) - Number(a[0].slice(2));
}

export class RegisterState {
  private frames: Frame[] = [];
  private current = 0;
  /** The last snapshot while nothing changed: consecutive instructions share it. */
  private cached: Snapshot | undefined;

  /** A change printed by the kernel: merged into the frame it names, which becomes the current one. */
  apply(state: ParsedState): void {
    this.cached = undefined;
    const frame = this.enter(state.frame);
    for (const [k, v] of state.registers) frame.registers.set(k, v);
    for (const [k, v] of state.stack) frame.stack.set(k, v);
  }

  /** A whole state (the start of a walk): replaces the frame it names. */
  reset(state: ParsedState): void {
    const frame = this.enter(state.frame);
    frame.registers.clear();
    frame.stack.clear();
    this.apply(state);
  }

  /** A new function is verified from scratch (`Validating foo() func#1...`). */
  clear(): void {
    this.cached = undefined;
    this.frames = [];
    this.current = 0;
  }

  /** A helper or kfunc call leaves R1-R5 uninitialised and R0 to be printed anew. */
  clobberCallerSaved(): void {
    this.cached = undefined;
    const frame = this.frames[this.current];
    for (const r of CALLER_SAVED) frame?.registers.delete(r);
  }

  /** The current frame's registers and stack, in the kernel's order; undefined when nothing is known. */
  snapshot(): Snapshot {
    if (this.cached) return this.cached;
    const frame = this.frames[this.current];
    const out: Snapshot = {};
    if (frame && frame.registers.size > 0) out.registers = Object.fromEntries([...frame.registers].sort(byRegisterNumber));
    if (frame && frame.stack.size > 0) out.stack = Object.fromEntries([...frame.stack].sort(byStackOffset));
    this.cached = out;
    return out;
  }

  /** The kernel prints the current frame only: naming frame N means deeper frames have returned. */
  private enter(index: number): Frame {
    this.frames.length = Math.min(this.frames.length, index + 1);
    for (let i = this.frames.length; i <= index; i++) this.frames.push({ registers: new Map(), stack: new Map() });
    this.current = index;
    return this.frames[index]!;
  }
}
