/** Verification results or a saved log → the Verifier Explorer's data. */
import { basename } from 'node:path';
import { classifyLines, UNKNOWN_VERIFIER } from '../engine/catalogue';
import { SourceText } from '../engine/source-text';
import type { EngineDiagnostic, VerifyReport } from '../engine/types';
import { instructionsFromLog } from './instructions';
import type { ExplorerData, ExplorerDiagnostic, ExplorerInstruction, ExplorerProgram } from './types';

function toExplorer(d: EngineDiagnostic): ExplorerDiagnostic {
  return {
    line: d.line,
    column: d.column,
    endLine: d.endLine,
    endColumn: d.endColumn,
    severity: d.severity,
    code: d.code,
    message: d.message,
    ...(d.fix !== undefined ? { fix: d.fix } : {}),
  };
}

/** The explorer's view of `verifySource(text, file, { logLevel: 2 })`'s report for `source` (the text it verified). */
export function explorerFromReport(report: VerifyReport, source: string): ExplorerData {
  const here = report.diagnostics.filter((d) => d.file === report.file);
  const programs = report.programs.map((p): ExplorerProgram => {
    const program: ExplorerProgram = {
      name: p.name,
      section: p.section,
      verdict: p.verdict,
      diagnostics: here.filter((d) => d.program === p.name).map(toExplorer),
      instructions: [],
      ...(p.insnsProcessed !== undefined ? { insnsProcessed: p.insnsProcessed } : {}),
    };
    const text = report.logs[p.name];
    if (text !== undefined) {
      const { log, instructions } = instructionsFromLog(text, report.file);
      program.instructions = instructions;
      if (log.errorLines.length > 0) program.message = log.errorLines.join('\n');
      if (log.truncated || p.logTruncated) program.truncated = true;
    }
    if (program.message === undefined && p.reason !== undefined) program.message = p.reason;
    return program;
  });
  return {
    file: report.file,
    source,
    ...(report.kernel !== undefined ? { kernel: report.kernel } : {}),
    diagnostics: here.filter((d) => d.program === undefined).map(toExplorer),
    programs,
  };
}

/** The verifier's message as a diagnostic on the failing instruction's line (a saved log has no engine report). */
function errorDiagnostic(errorLines: string[], failing: ExplorerInstruction | undefined, source: SourceText): ExplorerDiagnostic | undefined {
  if (failing?.line === undefined || errorLines.length === 0) return undefined;
  const match = classifyLines('verifier', errorLines);
  const entry = match?.entry ?? UNKNOWN_VERIFIER;
  const span = source.codeSpan(failing.line);
  return {
    line: failing.line,
    column: span.column,
    endLine: failing.line,
    endColumn: span.endColumn,
    severity: 'error',
    code: entry.code,
    message: `${entry.title}: ${match?.line ?? errorLines[0]}`,
    fix: entry.fix,
  };
}

/**
 * A saved verifier log from any kernel, as one program named after the log file; with `source` (the C
 * file it came from) the instructions are placed on its lines and the error becomes a diagnostic.
 */
export function explorerFromLog(text: string, logFile: string, source?: { file: string; text: string }): ExplorerData {
  const { log, instructions } = instructionsFromLog(text, source?.file);
  const program: ExplorerProgram = {
    name: basename(logFile),
    verdict: log.error !== undefined ? 'rejected' : 'accepted',
    diagnostics: [],
    instructions,
    ...(log.errorLines.length > 0 ? { message: log.errorLines.join('\n') } : {}),
    ...(log.stats ? { insnsProcessed: log.stats.insnsProcessed } : {}),
    ...(log.truncated ? { truncated: true } : {}),
  };
  if (!source) return { file: logFile, diagnostics: [], programs: [program] };
  const diagnostic = errorDiagnostic(log.errorLines, instructions.find((i) => i.isError), new SourceText(source.text));
  if (diagnostic) program.diagnostics.push(diagnostic);
  return { file: source.file, source: source.text, diagnostics: [], programs: [program] };
}
