import { relative, isAbsolute } from 'node:path';
import type { EngineDiagnostic, ProgramReport, VerdictMatrix, VerifyReport } from '@ebpf-studio/server';

export function displayPath(file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

function formatDiagnostic(d: EngineDiagnostic): string[] {
  const where = d.node ? ` (${d.node}${d.kernel ? `, kernel ${d.kernel}` : ''})` : '';
  const lines = [`${displayPath(d.file)}:${d.line}:${d.column}: ${d.severity === 'information' ? 'note' : d.severity}: ${d.message} [${d.code}]${where}`];
  for (const r of d.related) lines.push(`${displayPath(r.file)}:${r.line}:${r.column}: note: ${r.message}`);
  if (d.explanation) lines.push(`    why: ${d.explanation}`);
  if (d.fix) lines.push(`    fix: ${d.fix}`);
  if (d.doc) lines.push(`    see: ${d.doc}`);
  return lines;
}

function formatProgram(p: ProgramReport, report: VerifyReport): string {
  const facts: string[] = [];
  if (p.insnsProcessed !== undefined) facts.push(`${p.insnsProcessed} insns`);
  if (p.verifyMs !== undefined) facts.push(`${p.verifyMs.toFixed(2)} ms`);
  if (report.kernel) facts.push(`kernel ${report.kernel}`);
  const mark = p.verdict === 'accepted' ? '✓' : p.verdict === 'rejected' ? '✗' : '–';
  const reason = p.verdict === 'not-loaded' && p.reason ? ` (${p.reason})` : '';
  return `${mark} ${p.name} [SEC("${p.section}"), ${p.type}]: ${p.verdict}${reason}${facts.length ? ` · ${facts.join(' · ')}` : ''}`;
}

/**
 * gcc-style diagnostics (grouped by program, root cause first), then one summary line per program,
 * led by the file's path when the run verifies several files.
 */
export function formatReport(report: VerifyReport, withFile = false): string {
  const lines = report.diagnostics.flatMap(formatDiagnostic);
  for (const p of report.programs) lines.push(`${withFile ? `${displayPath(report.file)}: ` : ''}${formatProgram(p, report)}`);
  if (report.programs.length === 0 && report.diagnostics.length === 0) lines.push(`${displayPath(report.file)}: nothing to verify`);
  return lines.join('\n');
}

/** The last line of a run over several files: how many programs each verdict got. */
export function formatTotals(reports: readonly VerifyReport[]): string {
  const programs = reports.flatMap((r) => r.programs);
  const count = (verdict: ProgramReport['verdict']): number => programs.filter((p) => p.verdict === verdict).length;
  const failed = reports.filter((r) => !r.ok).length;
  return `${reports.length} files, ${programs.length} programs: ${count('accepted')} accepted, ${count('rejected')} rejected, ${count('not-loaded')} not loaded; ${failed === 0 ? 'every file passes' : `${failed} file${failed === 1 ? ' fails' : 's fail'}`}`;
}

/** The --json shape (documented in the README). */
export function jsonReport(report: VerifyReport): object {
  return {
    file: report.file,
    ok: report.ok,
    ...(report.kernel ? { kernel: report.kernel } : {}),
    programs: report.programs.map((p) => ({
      name: p.name,
      section: p.section,
      type: p.type,
      verdict: p.verdict,
      reason: p.reason ?? null,
      insnsProcessed: p.insnsProcessed ?? null,
      verifyMs: p.verifyMs ?? null,
    })),
    diagnostics: report.diagnostics,
  };
}

/** Per-kernel verdicts side by side: diagnostics (each saying where it holds), then one line per program. */
export function formatMatrix(matrix: VerdictMatrix): string {
  const lines = matrix.diagnostics.flatMap(formatDiagnostic);
  for (const p of matrix.programs) {
    const mark = (verdict: string): string => (verdict === 'accepted' ? '✓' : verdict === 'rejected' ? '✗' : '–');
    const cells = Object.entries(p.verdicts).map(([node, v]) => `${mark(v.verdict)} ${node} (${v.kernel})${v.code ? ` ${v.code}` : ''}`);
    lines.push(`${p.name} [SEC("${p.section}")]: ${cells.join(' · ')}`);
  }
  for (const u of matrix.unreachable) lines.push(`– ${u.node}: not reached: ${u.error}`);
  return lines.join('\n');
}
