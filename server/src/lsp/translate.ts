/** The one place where engine results become LSP types. */
import { pathToFileURL } from 'node:url';
import { CodeLens, Diagnostic, DiagnosticSeverity, Range, type Command } from 'vscode-languageserver';
import { docPath } from '../engine/docs-location';
import type { EngineDiagnostic, ProgramReport, Severity, VerifyReport } from '../engine/types';

/** What code actions need to know about a diagnostic, carried in Diagnostic.data. */
export interface DiagnosticData {
  code: string;
  program?: string;
  /** The verifier's, libbpf's or clang's own words. */
  kernelMessage?: string;
  related: { line: number; message: string }[];
}

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

export function toRange(line: number, column: number, endLine: number, endColumn: number): Range {
  const startLine = Math.max(0, line - 1);
  const start = { line: startLine, character: Math.max(0, column - 1) };
  const end = { line: Math.max(startLine, endLine - 1), character: Math.max(0, endColumn - 1) };
  if (end.line === start.line && end.character < start.character) end.character = start.character;
  return Range.create(start, end);
}

export function toDiagnostic(d: EngineDiagnostic): Diagnostic {
  const lines = [d.message];
  if (d.explanation) lines.push(d.explanation);
  if (d.fix) lines.push(`Fix: ${d.fix}`);
  const page = d.doc ? docPath(d.doc) : undefined;
  const diagnostic: Diagnostic = {
    range: toRange(d.line, d.column, d.endLine, d.endColumn),
    severity: SEVERITY[d.severity],
    source: d.source === 'verifier' ? 'BPF verifier' : d.source,
    code: d.code,
    message: lines.join('\n'),
    data: { code: d.code, ...(d.program ? { program: d.program } : {}), kernelMessage: d.kernelMessage, related: d.related.map((r) => ({ line: r.line, message: r.message })) } satisfies DiagnosticData,
  };
  if (page) diagnostic.codeDescription = { href: pathToFileURL(page).href };
  if (d.related.length > 0) {
    diagnostic.relatedInformation = d.related.map((r) => ({
      location: { uri: pathToFileURL(r.file).href, range: toRange(r.line, r.column, r.line, r.column) },
      message: r.message,
    }));
  }
  return diagnostic;
}

/** Diagnostics of a report that belong to `path` (a header's diagnostics go to the header). */
export function diagnosticsFor(report: VerifyReport, path: string): Diagnostic[] {
  return report.diagnostics.filter((d) => d.file === path).map(toDiagnostic);
}

export const OPEN_LOG_COMMAND = 'ebpfStudio.openVerifierLog';

export function lensTitle(p: ProgramReport, report: VerifyReport, codes: readonly string[]): string {
  const kernel = report.kernel ? ` · kernel ${report.kernel.replace(/^(\d+\.\d+).*/, '$1')}` : '';
  if (p.verdict === 'accepted') {
    const insns = p.insnsProcessed !== undefined ? ` · ${p.insnsProcessed} insns` : '';
    const ms = p.verifyMs !== undefined ? ` · ${p.verifyMs < 10 ? p.verifyMs.toFixed(2) : p.verifyMs.toFixed(0)} ms` : '';
    return `✓ accepted${insns}${ms}${kernel}`;
  }
  if (p.verdict === 'rejected') return `✗ rejected: ${codes[0] ?? 'see the verifier log'}${kernel}`;
  return `– not loaded${p.reason ? `: ${p.reason.slice(0, 80)}` : ''}`;
}

export function codeLens(line: number, title: string, uri: string, program: string, hasLog: boolean): CodeLens {
  const command: Command | undefined = hasLog ? { title, command: OPEN_LOG_COMMAND, arguments: [uri, program] } : { title, command: '' };
  return { range: Range.create(line - 1, 0, line - 1, 0), command };
}
