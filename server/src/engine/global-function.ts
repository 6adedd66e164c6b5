import type { ParsedLog, VerifierFunc } from '@ebpf-studio/libbpf-ts';

/**
 * The global (non-static) function the failure lies in, if any. The verifier checks such a function on
 * its own, once for every possible caller ("Validating pick_weight() func#1..."), so it knows nothing of
 * the arguments a caller passes: a pointer argument is `mem_or_null` there.
 */
export function globalFunctionAt(log: ParsedLog | undefined): string | undefined {
  const idx = log?.failingInsn?.idx;
  if (!log || idx === undefined) return undefined;
  let found: (VerifierFunc & { insn: number; name: string }) | undefined;
  for (const f of log.funcs) {
    if (f.name !== undefined && f.insn !== undefined && f.insn <= idx && (!found || f.insn > found.insn)) found = { ...f, insn: f.insn, name: f.name };
  }
  return found?.name;
}

/** Why and how to fix a pointer argument of global function `name` used without a NULL check. */
export function globalArgumentAdvice(name: string): { explanation: string; fix: string } {
  return {
    explanation: `${name}() is a global (non-static) function: the verifier checks it once for every possible caller, so as far as it knows a pointer argument may be NULL, and the function used one before testing it.`,
    fix: `Test the argument before using it (\`if (!arg) return 0;\`), or declare the function \`static __noinline\` so it is verified with each caller's own arguments.`,
  };
}
