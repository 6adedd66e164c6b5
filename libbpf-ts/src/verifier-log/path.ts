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

/** The last record before `tail[pos]` on its path that wrote r0 (best effort: only within the kept tail). */
export function findR0Setter(tail: readonly InsnRecord[], pos: number): InsnRecord | undefined {
  for (let cur = pos, prev = predecessor(tail, pos); prev >= 0; cur = prev, prev = predecessor(tail, prev)) {
    // r0 is not defined on entry to a subprogram: the caller's call does not set the callee's r0.
    if (entersSubprog(tail[prev], tail[cur])) return undefined;
    if (decodeInsnDest(tail[prev].text) === 'r0') return tail[prev];
  }
  return undefined;
}
