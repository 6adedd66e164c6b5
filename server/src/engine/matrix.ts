import type { EngineDiagnostic, ProgramVerdictKind, VerifyReport } from './types';

/** One verification target's result: a node (or 'local') with its kernel, or why it could not be reached. */
export type TargetOutcome = { node: string; kernel: string; report: VerifyReport } | { node: string; error: string };

export interface VerdictMatrix {
  /** program → node → verdict (absent: the node could not be asked). */
  programs: { name: string; section: string; verdicts: Record<string, { verdict: ProgramVerdictKind; kernel: string; code?: string }> }[];
  /** Every distinct diagnostic once; `nodes` lists where it holds and the message says so when not everywhere. */
  diagnostics: (EngineDiagnostic & { nodes: string[]; kernels: string[] })[];
  unreachable: { node: string; error: string }[];
}

function key(d: EngineDiagnostic): string {
  return `${d.file}:${d.line}:${d.column}:${d.code}:${d.program ?? ''}`;
}

/** Per-kernel verdicts side by side: where verifiers differ, each diagnostic says on which kernels it holds. */
export function verdictMatrix(outcomes: readonly TargetOutcome[]): VerdictMatrix {
  const reached = outcomes.filter((o): o is Extract<TargetOutcome, { report: VerifyReport }> => 'report' in o);
  const programs = new Map<string, VerdictMatrix['programs'][number]>();
  const diagnostics = new Map<string, VerdictMatrix['diagnostics'][number]>();
  for (const o of reached) {
    for (const p of o.report.programs) {
      const row = programs.get(p.name) ?? { name: p.name, section: p.section, verdicts: {} };
      const code = o.report.diagnostics.find((d) => d.program === p.name && d.severity === 'error')?.code;
      row.verdicts[o.node] = { verdict: p.verdict, kernel: o.kernel, ...(code ? { code } : {}) };
      programs.set(p.name, row);
    }
    for (const d of o.report.diagnostics) {
      const existing = diagnostics.get(key(d));
      if (existing) {
        existing.nodes.push(o.node);
        existing.kernels.push(o.kernel);
      } else diagnostics.set(key(d), { ...d, nodes: [o.node], kernels: [o.kernel] });
    }
  }
  for (const d of diagnostics.values()) {
    if (d.nodes.length < reached.length) {
      const kernels = [...new Set(d.kernels)];
      d.message += ` (kernel ${kernels.join(', ')} only)`;
    }
    if (reached.length === 1 || d.nodes.length < reached.length) {
      d.node = d.nodes.join(', ');
      d.kernel = [...new Set(d.kernels)].join(', ');
    }
  }
  return {
    programs: [...programs.values()],
    diagnostics: [...diagnostics.values()],
    unreachable: outcomes.filter((o): o is Extract<TargetOutcome, { error: string }> => 'error' in o),
  };
}
