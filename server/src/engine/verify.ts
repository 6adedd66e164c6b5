import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseVerifierLog, readBpfObject, type BpfObjectSpec, type ParsedLog, type ProgramSpec, type ReadProblem, type SourceRef } from '@ebpf-studio/libbpf-ts';
import { AgentError, type AgentClient, type VerifyResult } from '@ebpf-studio/remote-agent';
import { CancellationTokenSource, type CancellationToken } from 'vscode-jsonrpc';
import { caseAdvice } from './case-advice';
import { classifyLines, UNKNOWN_LIBBPF, UNKNOWN_VERIFIER, type CatalogueEntry } from './catalogue';
import { compileOnAgent, compileSource, type CompileOptions, type CompileResult } from './compile';
import { EngineError } from './engine-error';
import { locateRootCause, type LocateContext, type ProgramPlace } from './root-cause';
import { settingsToPatches } from './settings';
import { SourceText } from './source-text';
import { sectionAdvice } from './section-suggestions';
import { largestStackArray } from './stack-objects';
import type { VmlinuxMode } from './vmlinux';
import type { EngineDiagnostic, ProgramReport, VerifyReport } from './types';

export interface VerifyOptions extends CompileOptions {
  agent: AgentClient;
  /** Verify as a loader holding only these capabilities, e.g. "bpf,net_admin". */
  caps?: string;
  /** const volatile settings: NAME → VALUE */
  sets?: Readonly<Record<string, string>>;
  logLevel?: 1 | 2;
  logSize?: number;
  /**
   * A vmlinux.h for the local kernel (generated from its BTF once per kernel build) on the include path,
   * after the others: 'auto' (the default) when the source includes vmlinux.h, 'on' always, 'off' never.
   */
  vmlinux?: VmlinuxMode;
  /** Compile with the target node's clang and headers (agent/build) instead of this machine's. */
  buildOnNode?: boolean;
  token?: CancellationToken;
}

function clangDiagnostics(compiled: CompileResult, file: string, source: SourceText): EngineDiagnostic[] {
  const out: EngineDiagnostic[] = [];
  for (const d of compiled.diagnostics) {
    if (d.severity === 'note') continue;
    const stack = /BPF stack limit/.test(d.message);
    const entry: CatalogueEntry | undefined = classifyLines('clang', [d.raw])?.entry;
    let { line, column } = d;
    let endColumn = d.endColumn ?? source.codeSpan(d.line).endColumn;
    const related = [];
    if (stack && d.file === file) {
      const biggest = largestStackArray(source, d.line);
      if (biggest) {
        related.push({ file, line: d.line, column: d.column, message: 'in this function' });
        ({ line, column, endColumn } = biggest);
      }
    } else if (d.origin) {
      ({ line, column } = d.origin);
      endColumn = d.file === file ? source.codeSpan(line).endColumn : column;
    }
    out.push({
      file: d.file,
      line,
      column,
      endLine: d.endLine ?? line,
      endColumn,
      severity: d.severity,
      source: 'clang',
      code: entry?.code ?? (d.flag ? d.flag : 'CLANG'),
      message: entry && entry.code !== 'CLANG-ERROR' ? `${entry.title}: ${d.message}` : d.message,
      kernelMessage: d.message,
      ...(entry ? { explanation: entry.explanation, fix: entry.fix, doc: entry.doc } : {}),
      related,
    });
  }
  for (const u of compiled.unlocated) {
    const entry = classifyLines('clang', [`${u.severity}: ${u.message}`])?.entry;
    const fnLine = u.functionName ? source.functionLine(u.functionName) : undefined;
    const biggest = fnLine !== undefined && entry?.rootCause === 'stack-object' ? largestStackArray(source, fnLine) : undefined;
    const line = biggest?.line ?? fnLine ?? 1;
    const span = biggest ?? source.codeSpan(line);
    out.push({
      file, line, column: span.column, endLine: line, endColumn: span.endColumn,
      severity: u.severity, source: 'clang', code: entry?.code ?? 'CLANG', message: entry ? `${entry.title}: ${u.message}` : u.message,
      kernelMessage: u.message, ...(entry ? { explanation: entry.explanation, fix: entry.fix, doc: entry.doc } : {}), related: [],
    });
  }
  return out;
}

/** The helper, extern or kfunc a message is about, e.g. `failed to find BTF for extern 'bpf_foo'`. */
function symbolIn(message: string): string | undefined {
  return /extern (?:\(\w+ ksym\) )?'(\w+)'|helper (\w+)#|func (\w+)#|kfunc '?(\w+)|\bmap '(\w+)': failed to create/.exec(message)?.slice(1).find((s) => s !== undefined);
}

function diagnosticFor(entry: CatalogueEntry, kernelMessage: string, program: ProgramPlace, log: ParsedLog | undefined, ctx: LocateContext): EngineDiagnostic {
  const symbol = symbolIn(kernelMessage);
  const { location, related } = locateRootCause(entry.rootCause, log, program, ctx, symbol);
  const specific = caseAdvice(entry.code, kernelMessage, symbol, log, program, ctx);
  const suffix = entry.code === 'LIBBPF-UNKNOWN-SECTION' ? sectionAdvice(program.section) : specific.suffix;
  return {
    ...location,
    severity: 'error',
    source: entry.source,
    code: entry.code,
    message: `${entry.title}: ${kernelMessage}${suffix ? ` — ${suffix}` : ''}`,
    kernelMessage,
    explanation: specific.explanation ?? entry.explanation,
    fix: specific.fix ?? entry.fix,
    doc: entry.doc,
    program: program.name,
    related: [...related, ...specific.related],
  };
}

/** Instruction → source from the object's line info, for the instructions of `program` itself. */
function lineInfoLookup(spec: BpfObjectSpec, program: ProgramSpec): (idx: number) => SourceRef | undefined {
  const records = spec.lineInfo
    .filter((l) => l.section === program.section && l.insnOff >= program.insnOffset && l.insnOff < program.insnOffset + program.insnCount && l.line > 0)
    .sort((a, b) => a.insnOff - b.insnOff);
  return (idx) => {
    if (idx < 0 || idx >= program.insnCount) return undefined;
    const target = program.insnOffset + idx;
    let found: (typeof records)[number] | undefined;
    for (const r of records) {
      if (r.insnOff > target) break;
      found = r;
    }
    return found ? { text: found.sourceText, file: found.file, line: found.line } : undefined;
  };
}

function programPlaces(spec: BpfObjectSpec): Map<string, ProgramPlace> {
  return new Map(
    spec.programs.map((p) => [p.name, { name: p.name, section: p.section, progType: p.progType, insnSource: lineInfoLookup(spec, p), ...(p.line !== undefined ? { line: p.line } : {}) }]),
  );
}

/**
 * The object reader's findings, placed on the program they name (its SEC line). An error about a
 * program the load already failed for adds nothing and is left out.
 */
function problemDiagnostics(problems: readonly ReadProblem[], loadDiagnostics: readonly EngineDiagnostic[], ctx: LocateContext): EngineDiagnostic[] {
  return problems.flatMap((p): EngineDiagnostic[] => {
    const program = /program '(\w+)'/.exec(p.message)?.[1];
    if (p.severity === 'error' && program !== undefined && loadDiagnostics.some((d) => d.program === program)) return [];
    const section = /SEC\("([^"]*)"\)/.exec(p.message)?.[1];
    const line = (section !== undefined ? ctx.source.sectionLine(section, program ? ctx.source.functionLine(program) : undefined) : undefined) ?? (program ? ctx.source.functionLine(program) : undefined) ?? 1;
    // a warning about the line where the program's own load error already stands says it twice
    if (program !== undefined && loadDiagnostics.some((d) => d.program === program && d.file === ctx.file && d.line === line)) return [];
    const span = ctx.source.codeSpan(line);
    const entry = classifyLines('libbpf', [p.message])?.entry;
    return [{
      file: ctx.file, line, column: span.column, endLine: line, endColumn: span.endColumn, severity: p.severity === 'error' ? 'error' : 'warning', source: 'libbpf',
      code: entry?.code ?? 'LIBBPF-OBJECT', message: p.message, kernelMessage: p.message, ...(program ? { program } : {}),
      ...(entry ? { explanation: entry.explanation, fix: entry.fix, doc: entry.doc } : {}), related: [],
    }];
  });
}

const ERRNO_NAMES: Readonly<Record<number, string>> = { 1: 'EPERM', 7: 'E2BIG', 13: 'EACCES', 14: 'EFAULT', 22: 'EINVAL', 28: 'ENOSPC', 95: 'EOPNOTSUPP', 524: 'ENOTSUPP' };

/** What to say when the kernel refused a program and its verifier log names no reason: at least the errno, and what it means where known. */
function silentRejection(errno: number | undefined, progType: string): string {
  const code = errno === undefined ? 'an error' : `${ERRNO_NAMES[errno] ?? 'errno'} (${errno})`;
  const said = `the kernel refused the program with ${code} and its verifier log gives no reason`;
  if (progType === 'struct_ops' && errno === 524) return `${said}: a struct_ops program loads only as a member of a SEC(".struct_ops") map, and no map of this object uses it`;
  return said;
}

/** Build the report from the agent's verdicts: one root-cause diagnostic per rejected program, first. */
export function reportFromVerdicts(result: VerifyResult, spec: BpfObjectSpec, ctx: LocateContext): { programs: ProgramReport[]; diagnostics: EngineDiagnostic[]; logs: Record<string, string> } {
  const places = programPlaces(spec);
  const programs: ProgramReport[] = [];
  const diagnostics: EngineDiagnostic[] = [];
  const logs: Record<string, string> = {};
  if (result.openError !== undefined) {
    const lines = [...result.libbpf.filter((m) => m.level === 'warn').map((m) => m.text), result.openError];
    const match = classifyLines('libbpf', lines);
    const reason = match?.line ?? result.openError;
    for (const p of spec.programs) programs.push({ name: p.name, section: p.section, type: p.progType, verdict: 'not-loaded', reason, ...(p.line !== undefined ? { line: p.line } : {}) });
    const first = places.values().next().value;
    if (first) diagnostics.push(diagnosticFor(match?.entry ?? UNKNOWN_LIBBPF, reason, first, undefined, ctx));
    return { programs, diagnostics, logs };
  }
  for (const v of result.programs) {
    const place = places.get(v.name) ?? { name: v.name, section: v.section };
    programs.push({
      name: v.name,
      section: v.section,
      type: v.progType,
      verdict: v.verdict,
      ...(v.reason ? { reason: v.reason } : {}),
      ...(v.insnsProcessed !== undefined ? { insnsProcessed: v.insnsProcessed } : {}),
      ...(v.verifyUs !== undefined ? { verifyMs: v.verifyUs / 1000 } : { verifyMs: v.loadMs }),
      ...(place.line !== undefined ? { line: place.line } : {}),
      ...(v.logTruncated ? { logTruncated: true } : {}),
    });
    if (v.verdict === 'accepted') continue;
    if (v.log !== undefined) {
      logs[v.name] = v.log;
      const log = parseVerifierLog(v.log);
      const errorLines = log.errorLines.length > 0 ? log.errorLines : log.error ? [log.error] : [];
      const match = classifyLines('verifier', errorLines);
      const silent = errorLines.length === 0;
      const kernelMessage = match?.line ?? errorLines[0] ?? silentRejection(v.errno, v.progType);
      // no message, no failing instruction: the whole program was refused, so it is shown at its SEC line
      const entry = match?.entry ?? (silent ? { ...UNKNOWN_VERIFIER, rootCause: 'section' as const } : UNKNOWN_VERIFIER);
      const d = diagnosticFor(entry, kernelMessage, place, log, ctx);
      if (v.logTruncated || log.truncated) d.message += ' (the verifier log was truncated: only its tail was kept)';
      diagnostics.push(d);
      continue;
    }
    const lines = [...v.libbpf.map((m) => m.text), ...(v.reason ? [v.reason] : [])];
    const match = classifyLines('libbpf', lines);
    const kernelMessage = match?.line ?? v.reason ?? 'libbpf could not load the program';
    diagnostics.push(diagnosticFor(match?.entry ?? UNKNOWN_LIBBPF, kernelMessage, place, undefined, ctx));
  }
  return { programs, diagnostics, logs };
}

async function verifyCompiled(object: Uint8Array, file: string, source: SourceText, preDiagnostics: EngineDiagnostic[], compileMs: number, dependencies: string[], options: VerifyOptions): Promise<VerifyReport> {
  const { spec, problems } = readBpfObject(object);
  const diagnostics = [...preDiagnostics];
  const ctx: LocateContext = { file, source, knownFiles: [...new Set(spec.lineInfo.map((l) => l.file))], ...(spec.btf ? { btf: spec.btf } : {}) };
  if (spec.programs.length === 0) {
    // an object that cannot be read (not ELF, truncated, stripped) says why, not "add a SEC"
    const unreadable = problems.filter((p) => p.severity === 'error');
    if (unreadable.length > 0) diagnostics.push(...problemDiagnostics(unreadable, [], ctx));
    else {
      diagnostics.push({
        file, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'error', source: 'libbpf', code: 'LIBBPF-NO-PROGRAM',
        message: 'no BPF program found: annotate a function with SEC("...") (e.g. SEC("xdp"))', kernelMessage: 'no programs in the object', related: [],
      });
    }
    return { file, ok: false, programs: [], diagnostics, logs: {}, dependencies, timings: { compileMs, verifyMs: 0 } };
  }
  const patches = settingsToPatches(options.sets ?? {}, spec.globals);
  const start = performance.now();
  let result: VerifyResult;
  try {
    result = await options.agent.verify(
      {
        object: Buffer.from(object).toString('base64'),
        patches,
        ...(options.caps ? { caps: options.caps } : {}),
        ...(options.logLevel ? { logLevel: options.logLevel } : {}),
        ...(options.logSize ? { logSize: options.logSize } : {}),
      },
      options.token ?? new CancellationTokenSource().token,
    );
  } catch (err) {
    if (err instanceof AgentError) throw new EngineError(err.message);
    throw err;
  }
  const verifyMs = performance.now() - start;
  const built = reportFromVerdicts(result, spec, ctx);
  const fromProblems = problemDiagnostics(problems, built.diagnostics, ctx);
  // an object libbpf could not open for a reason the reader located (a legacy map) is shown once, where that is
  const located = new Set(fromProblems.filter((d) => d.severity === 'error').map((d) => d.code));
  diagnostics.push(...(result.openError !== undefined ? built.diagnostics.filter((d) => !located.has(d.code)) : built.diagnostics), ...fromProblems);
  return {
    file,
    ok: built.programs.every((p) => p.verdict === 'accepted') && !diagnostics.some((d) => d.severity === 'error'),
    programs: built.programs,
    diagnostics,
    kernel: result.kernelRelease,
    logs: built.logs,
    dependencies,
    timings: { compileMs, verifyMs },
  };
}

/** Compile BPF C text as `file` and judge every program with the kernel verifier through the agent. */
export async function verifySource(text: string, file: string, options: VerifyOptions): Promise<VerifyReport> {
  const abs = resolve(file);
  const source = new SourceText(text);
  const compiled = options.buildOnNode ? await compileOnAgent(text, abs, options, options.agent) : await compileSource(text, abs, options);
  const clangDiags = clangDiagnostics(compiled, abs, source);
  if (!compiled.object) {
    if (!clangDiags.some((d) => d.severity === 'error')) {
      clangDiags.push({ file: abs, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'error', source: 'clang', code: 'CLANG', message: 'clang failed without a diagnostic', kernelMessage: '', related: [] });
    }
    return { file: abs, ok: false, programs: [], diagnostics: clangDiags, logs: {}, dependencies: compiled.dependencies, timings: { compileMs: compiled.ms, verifyMs: 0 } };
  }
  return verifyCompiled(compiled.object, abs, source, clangDiags, compiled.ms, compiled.dependencies, options);
}

/** Judge an already compiled object; diagnostics point into the source named by its line info when readable. */
export async function verifyObjectFile(path: string, options: VerifyOptions): Promise<VerifyReport> {
  const abs = resolve(path);
  const object = await readFile(abs);
  const { spec } = readBpfObject(object);
  const sourceFile = spec.lineInfo.find((l) => /\.c$/.test(l.file))?.file;
  let text = '';
  if (sourceFile) text = await readFile(sourceFile, 'utf8').catch(() => '');
  return verifyCompiled(object, sourceFile && text ? sourceFile : abs, new SourceText(text), [], 0, [], options);
}
