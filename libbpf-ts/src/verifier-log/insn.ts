/** Texts of single BPF instructions as the kernel's disassembler prints them in the verifier log. */

// `r1 = ...`, `w0 += 1`, `r2 s>>= 3`, `r0 = atomic64_cmpxchg(...)`, `r1 = be16 r1`, `r0 = *(u8 *)skb[12]`.
const REGISTER_WRITE = /^[rw](\d+) (?:[-+*/%&|^]|<<|>>|s>>|s\/|s%)?= /;
// `goto pc-9`, `if r1 > r0 goto pc-9`, `gotol pc+300`, `may_goto pc+2`.
const JUMP = /goto(?:l)? pc([+-]\d+)\b/;
// The kernel pads the instruction text, then prints `;` and the state (`; R1_w=...`, or nothing).
const STATE_SEPARATOR = /\s+;(?: |$)/;
// Level 1 prints the popped state of the other branch right after a jump: `goto pc+4 23: R0=... R10=fp0`.
const POPPED_STATE = /^(.*?\S) (\d+): ((?:frame\d+: )?R\d.*)$/;

/** The register an instruction text writes (`r0` for `w0 = 1` and for every call), or undefined. */
export function decodeInsnDest(text: string): string | undefined {
  if (text.startsWith('call ')) return 'r0';
  const m = REGISTER_WRITE.exec(text);
  return m ? `r${m[1]}` : undefined;
}

/** The target of a jump instruction at `idx` (`idx + 1 + off`), or undefined when the text is not a jump. */
export function jumpTarget(idx: number, text: string): number | undefined {
  if (!text.includes('goto')) return undefined;
  const m = JUMP.exec(text);
  return m ? idx + 1 + Number(m[1]) : undefined;
}

// The kernel appends some verdicts to a jump's line without a newline: `if r1 > r2 goto pc-6 BPF program is too large...`.
const JUMP_THEN_MESSAGE = /^(.*?goto(?:l)? pc[+-]\d+) ([A-Za-z].*)$/;

/** Splits what follows `N: (op) ` into the instruction text, the printed state, and a message glued after a jump. */
export function splitInsnBody(body: string): { text: string; state?: string; message?: string } {
  const sep = STATE_SEPARATOR.exec(body);
  if (sep) {
    const state = body.slice(sep.index + sep[0].length);
    return state ? { text: body.slice(0, sep.index), state } : { text: body.slice(0, sep.index) };
  }
  const popped = POPPED_STATE.exec(body);
  if (popped) return { text: popped[1], state: `${popped[2]}: ${popped[3]}` };
  const glued = JUMP_THEN_MESSAGE.exec(body.trimEnd());
  if (glued) return { text: glued[1], message: glued[2] };
  return { text: body.trimEnd() };
}
