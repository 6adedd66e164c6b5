import type { InsnRecord } from '@ebpf-studio/libbpf-ts';

/**
 * The kept records of the failing path, newest first: the tail walked back from the failing instruction,
 * jumping from the first record of a resumed branch ("from 17 to 22") back to the jump it resumed, since
 * the records in between belong to another path.
 */
export function* failingPath(tail: readonly InsnRecord[]): Generator<InsnRecord> {
  for (let i = tail.length - 1; i >= 0; ) {
    const record = tail[i]!;
    yield record;
    if (record.pathStart) return;
    const from = record.resumedFrom;
    i -= 1;
    if (from !== undefined) while (i >= 0 && tail[i]!.idx !== from) i -= 1;
  }
}

/** The last call on the failing path before the failing instruction to a helper or kfunc matching `helpers`. */
export function lastCallBefore(tail: readonly InsnRecord[], helpers: RegExp): { record: InsnRecord; helper: string } | undefined {
  let first = true;
  for (const record of failingPath(tail)) {
    if (first) {
      first = false;
      continue;
    }
    const helper = /^call (\w+)#/.exec(record.text)?.[1];
    if (helper && helpers.test(helper)) return { record, helper };
  }
  return undefined;
}
