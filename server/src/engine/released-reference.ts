import type { InsnRecord, ParsedLog } from '@ebpf-studio/libbpf-ts';
import { lastCallBefore } from './failing-path';

/** Helpers and kfuncs that give a reference back: every copy of the pointer is a plain number after them. */
const RELEASING = /^(?:bpf_sk_release|bpf_ringbuf_(?:submit|discard)(?:_dynptr)?|bpf_obj_drop(?:_impl)?|bpf_\w+_release)$/;

/**
 * A pointer used after the program gave its reference back: a dereference of a number (`invalid mem
 * access 'scalar'`), or a number passed to a release function (`R1 type=scalar expected=sock...`), after
 * a call on the failing path that released a reference.
 */
export function releasedBefore(log: ParsedLog | undefined): { record: InsnRecord; helper: string } | undefined {
  const error = log?.error ?? '';
  if (!log?.failingInsn) return undefined;
  const deref = /invalid mem access '(?:scalar|inv)'/.test(error);
  const failingCall = /^call (\w+)#/.exec(log.failingInsn.text)?.[1];
  const releasedAgain = /^R\d+ type=(?:scalar|inv) expected=/.test(error) && failingCall !== undefined && RELEASING.test(failingCall);
  return deref || releasedAgain ? lastCallBefore(log.tail, RELEASING) : undefined;
}

/** Why and how to fix a pointer used after `helper` released it. */
export function releasedReferenceAdvice(helper: string, again: boolean): { explanation: string; fix: string } {
  return {
    explanation: `${helper}() gave the reference back, and the verifier turned every copy of the pointer into a plain number; the program then ${again ? 'released it a second time' : 'used it'}.`,
    fix: again
      ? `Release each reference once on every path: drop the second ${helper}(), or return right after the first.`
      : `Read what you need from the object before ${helper}() (\`int state = sk->state; bpf_sk_release(sk);\`), and do not touch the pointer after it.`,
  };
}
