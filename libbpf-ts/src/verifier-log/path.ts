/** Walks the failing path backwards through the kept instruction records. */
import { decodeInsnDest } from './insn';
import type { InsnRecord } from './types';

const SUBPROG_CALL = /^call pc([+-]\d+)$/;

/**
 * The record before `tail[pos]` on its path: the previous record, or for a record the verifier resumed
 * from a pushed branch (level 2), the latest earlier record of the branching instruction.
 */
function predecessor(tail: readonly InsnRecord[], pos: number): number {
  const rec = tail[pos];
  if (rec.pathStart) return -1;
  if (rec.resumedFrom === undefined) return pos - 1;
  for (let i = pos - 1; i >= 0; i--) if (tail[i].idx === rec.resumedFrom) return i;
  return -1;
}

/** True when `callee` is the first record of the subprogram that `caller` called. */
function entersSubprog(caller: InsnRecord, callee: InsnRecord): boolean {
  const m = SUBPROG_CALL.exec(caller.text);
  return m !== null && caller.idx + 1 + Number(m[1]) === callee.idx;
}

const MOVE = /^[rw]\d+ = [rw](\d+)$/;
const MAX_MOVES = 8;

/** The last record before `tail[pos]` on its path that wrote `reg` (best effort: only within the kept tail). */
function findWriter(tail: readonly InsnRecord[], pos: number, reg: string): number | undefined {
  for (let cur = pos, prev = predecessor(tail, pos); prev >= 0; cur = prev, prev = predecessor(tail, prev)) {
    // Registers are not carried into a subprogram: the caller's writes say nothing about the callee's.
    if (entersSubprog(tail[prev], tail[cur])) return undefined;
    if (decodeInsnDest(tail[prev].text) === reg) return prev;
  }
  return undefined;
}

/**
 * The instruction that produced the value r0 holds at `tail[pos]`: the last write of r0 on the path,
 * followed back through plain register copies (`r0 = r1` ← `r1 = *(u8 *)(r2 +0)`), which clang
 * attributes to the closing brace rather than to the statement that computed the value.
 */
export function findR0Setter(tail: readonly InsnRecord[], pos: number): InsnRecord | undefined {
  let at = findWriter(tail, pos, 'r0');
  for (let hops = 0; at !== undefined && hops < MAX_MOVES; hops++) {
    const move = MOVE.exec(tail[at].text);
    if (!move) break;
    const source = findWriter(tail, at, `r${move[1]}`);
    if (source === undefined) break;
    at = source;
  }
  return at === undefined ? undefined : tail[at];
}
