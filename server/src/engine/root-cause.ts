import { basename } from 'node:path';
import type { Btf, InsnRecord, ParsedLog, SourceRef } from '@ebpf-studio/libbpf-ts';
import type { RootCauseRule } from './catalogue';
import { failingPath } from './failing-path';
import { mapDefinition } from './map-definitions';
import type { SourceText } from './source-text';
import { largestStackArrayInFile } from './stack-objects';
import type { RelatedLocation } from './types';

export interface Location {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface RootCause {
  location: Location;
  related: RelatedLocation[];
}

export interface ProgramPlace {
  name: string;
  section: string;
  /** Function line from line info, when known. */
  line?: number;
  /** Source of an instruction of the loaded program from the object's line info (main program only). */
  insnSource?: (idx: number) => SourceRef | undefined;
  /** libbpf's program type name, e.g. sched_cls. */
  progType?: string;
}

export interface LocateContext {
  /** The compiled file (absolute path). */
  file: string;
  source: SourceText;
  /** Full paths of every file named in the object's line info, to resolve the log's basenames. */
  knownFiles: readonly string[];
  /** The object's BTF, when it has one. */
  btf?: Btf;
}

const HOTTEST_LINES = 3;

function resolveFile(name: string, ctx: LocateContext): string {
  if (name === '' || name === '-') return ctx.file;
  if (name.startsWith('/')) return name;
  if (basename(ctx.file) === name) return ctx.file;
  return ctx.knownFiles.find((f) => basename(f) === name) ?? name;
}

function locationOf(ref: SourceRef | undefined, ctx: LocateContext): Location | undefined {
  if (!ref || ref.line <= 0) return undefined;
  const file = resolveFile(ref.file, ctx);
  const span = file === ctx.file ? ctx.source.codeSpan(ref.line) : { column: 1, endColumn: ref.text.length + 1 };
  return { file, line: ref.line, column: span.column, endLine: ref.line, endColumn: span.endColumn };
}

/**
 * The source of instruction `idx`: the object's line info where it covers the instruction (exact, and
 * right even where a level-1 log skipped a repeated annotation), else the log's annotations (which
 * also cover the subprograms libbpf appended after the main program).
 */
function sourceOf(idx: number | undefined, log: ParsedLog, program?: ProgramPlace): SourceRef | undefined {
  if (idx === undefined) return undefined;
  const fromLineInfo = program?.insnSource?.(idx);
  if (fromLineInfo) return fromLineInfo;
  const direct = log.sourceByInsn.get(idx);
  if (direct) return direct;
  let best: { idx: number; ref: SourceRef } | undefined;
  for (const [i, ref] of log.sourceByInsn) {
    if (i <= idx && (!best || i > best.idx) && ref.line > 0) best = { idx: i, ref };
  }
  return best?.ref;
}

export function recordLocation(record: InsnRecord | undefined, log: ParsedLog, ctx: LocateContext, program: ProgramPlace): Location | undefined {
  if (!record) return undefined;
  const ref = sourceOf(record.idx, log, program) ?? record.source;
  return ref ? locationOf(ref, ctx) : undefined;
}

function failingLocation(log: ParsedLog, ctx: LocateContext, program: ProgramPlace): Location | undefined {
  const ref = sourceOf(log.failingInsn?.idx, log, program) ?? log.failingSource;
  return ref ? locationOf(ref, ctx) : undefined;
}

function related(loc: Location | undefined, message: string): RelatedLocation[] {
  return loc ? [{ file: loc.file, line: loc.line, column: loc.column, message }] : [];
}

/**
 * Where the maybe-NULL pointer of a NULL dereference came from, with what to say there. The verifier
 * gives each such value an id (`R1=sock_or_null(id=2)`): the failing register's id is followed back along
 * the failing path to the instruction that first held it (a lookup call, or a load such as `skops->sk`).
 * Without register states, the last lookup call before the failure.
 */
function nullOrigin(log: ParsedLog, ctx: LocateContext, program: ProgramPlace): RelatedLocation[] {
  const reg = /^R(\d+) (?:invalid mem access|type=)/.exec(log.error ?? '')?.[1];
  const path = [...failingPath(log.tail)].slice(1);
  let origin: InsnRecord | undefined;
  const regState = reg !== undefined ? new RegExp(`\\bR${reg}(?:_w)?=\\w*_or_null\\(id=(\\d+)`) : undefined;
  const held = regState ? path.map((r) => regState.exec(r.state ?? '')?.[1]).find((id) => id !== undefined) : undefined;
  if (held !== undefined) {
    const same = new RegExp(`=\\w*_or_null\\(id=${held}\\b`);
    for (const record of path) if (same.test(record.state ?? '')) origin = record;
  } else {
    origin = path.find((r) => /^call bpf_\w*lookup\w*#/.test(r.text));
  }
  const loc = recordLocation(origin, log, ctx, program);
  const message = origin && /^call /.test(origin.text) ? 'the pointer comes from this call, which may return NULL' : 'the pointer is read here and may be NULL';
  return related(loc, message);
}

/**
 * The last decision a failing path made after instruction `after` (an acquire, a lock): walking back from
 * the failure, the last conditional jump on the path, or the jump whose other side the verifier resumed
 * there ("from 17 to 22" starts the path's last stretch). Optimised code often shares one exit for every
 * return, so this points at the `if` rather than at the closing brace.
 */
function lastBranchAfter(after: number, log: ParsedLog, ctx: LocateContext, program: ProgramPlace): Location | undefined {
  let branch: number | undefined;
  for (let i = log.tail.length - 1; i >= 0 && branch === undefined; i--) {
    const record = log.tail[i]!;
    if (record.idx <= after) break;
    if (/^if .* goto /.test(record.text)) branch = record.idx;
    else if (record.resumedFrom !== undefined) {
      if (record.resumedFrom > after) branch = record.resumedFrom;
      break;
    }
  }
  return locationOf(sourceOf(branch, log, program), ctx);
}

function hottestLines(log: ParsedLog, ctx: LocateContext, program: ProgramPlace): { line: number; visits: number; loc: Location }[] {
  const byLine = new Map<string, { visits: number; loc: Location }>();
  for (const [idx, visits] of log.visits) {
    const ref = sourceOf(idx, log, program);
    const loc = ref ? locationOf(ref, ctx) : undefined;
    if (!loc) continue;
    const key = `${loc.file}:${loc.line}`;
    const entry = byLine.get(key);
    if (entry) entry.visits += visits;
    else byLine.set(key, { visits, loc });
  }
  return [...byLine.values()].sort((a, b) => b.visits - a.visits).slice(0, HOTTEST_LINES).map((e) => ({ line: e.loc.line, visits: e.visits, loc: e.loc }));
}

/** The back-edge (loop) around the hottest instruction: its target is the header, its source the latch. */
function loopEdge(log: ParsedLog): { from: number; to: number } | undefined {
  if (log.backEdgeFrom) return log.backEdgeFrom;
  let hottest: number | undefined;
  let max = -1;
  for (const [idx, visits] of log.visits) {
    if (visits > max) {
      max = visits;
      hottest = idx;
    }
  }
  const focus = log.infiniteLoopInsn ?? hottest;
  const edges = log.backEdges.filter((e) => focus === undefined || (e.to <= focus && focus <= e.from));
  const candidates = edges.length > 0 ? edges : log.backEdges;
  if (candidates.length === 0) return log.infiniteLoopInsn === undefined ? undefined : { from: log.infiniteLoopInsn, to: log.infiniteLoopInsn };
  return candidates.reduce((a, b) => (b.from - b.to < a.from - a.to ? b : a));
}

const LOOP_KEYWORD = /\b(for|while|do)\b/;

/**
 * The loop's header line: among the source lines of the loop's instructions, the first one that is a
 * `for`/`while`/`do` statement (the back-edge target itself often carries the line of an initialiser
 * or of the body); else the first line the back-edge target maps to.
 */
function loopHeaderLocation(log: ParsedLog, ctx: LocateContext, program: ProgramPlace): Location | undefined {
  const edge = loopEdge(log);
  if (!edge) return undefined;
  const lines: Location[] = [];
  for (let idx = edge.to; idx <= edge.from; idx++) {
    const ref = sourceOf(idx, log, program);
    const loc = ref ? locationOf(ref, ctx) : undefined;
    if (loc && loc.file === ctx.file) lines.push(loc);
  }
  const keyword = lines.filter((l) => LOOP_KEYWORD.test(ctx.source.line(l.line).replace(/\/\/.*$/, ''))).sort((a, b) => a.line - b.line)[0];
  if (keyword) return keyword;
  const target = sourceOf(edge.to, log, program);
  return target ? locationOf(target, ctx) : undefined;
}

/**
 * The first line that calls `symbol` (for libbpf failures that carry no instruction, e.g. a misspelt
 * helper or a kfunc the kernel lacks), searched from the program's own function first — so a kfunc's
 * `extern … __ksym;` declaration above it is not taken for the call.
 */
function callLocation(symbol: string | undefined, ctx: LocateContext, from: number): Location | undefined {
  if (!symbol) return undefined;
  const escaped = symbol.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const call = new RegExp(`\\b${escaped}\\s*\\(`);
  const line = ctx.source.find(call, from) ?? ctx.source.find(call);
  if (line === undefined) return undefined;
  const span = ctx.source.codeSpan(line);
  return { file: ctx.file, line, column: span.column, endLine: line, endColumn: span.endColumn };
}

function programLocation(program: ProgramPlace, ctx: LocateContext): Location {
  const line = program.line ?? ctx.source.functionLine(program.name) ?? 1;
  const span = ctx.source.codeSpan(line);
  return { file: ctx.file, line, column: span.column, endLine: line, endColumn: span.endColumn };
}

/**
 * Something taken at `site` (instruction `siteIdx`) and still held where the program can end: shown at the
 * site, with notes on the last branch the path took after it and on the exit (`notes`: what each says).
 */
function heldToExit(site: Location | undefined, siteIdx: number | undefined, failing: Location | undefined, fallback: Location, log: ParsedLog, ctx: LocateContext, program: ProgramPlace, notes: [branch: string, exit: string]): RootCause {
  if (!site) return { location: failing ?? fallback, related: [] };
  const branch = siteIdx !== undefined ? lastBranchAfter(siteIdx, log, ctx, program) : undefined;
  const distinct = branch && branch.line !== failing?.line && branch.line !== site.line ? branch : undefined;
  return { location: site, related: [...related(distinct, notes[0]), ...related(failing, notes[1])] };
}

/** Where a verifier or libbpf failure of `program` should be shown, by the catalogue entry's rule. */
export function locateRootCause(rule: RootCauseRule, log: ParsedLog | undefined, program: ProgramPlace, ctx: LocateContext, symbol?: string): RootCause {
  const fallback = programLocation(program, ctx);
  if (rule === 'section') {
    const line = ctx.source.sectionLine(program.section, program.line ?? ctx.source.functionLine(program.name));
    if (line === undefined) return { location: fallback, related: [] };
    const span = ctx.source.codeSpan(line);
    return { location: { file: ctx.file, line, column: span.column, endLine: line, endColumn: span.endColumn }, related: [] };
  }
  if (rule === 'map-definition') {
    const definition = symbol ? mapDefinition(ctx.source, symbol) : undefined;
    if (!definition) return { location: fallback, related: [] };
    const span = ctx.source.codeSpan(definition.line);
    return { location: { file: ctx.file, line: definition.line, column: span.column, endLine: definition.line, endColumn: span.endColumn }, related: [] };
  }
  if (rule === 'stack-object') {
    const biggest = largestStackArrayInFile(ctx.source);
    return biggest ? { location: { file: ctx.file, line: biggest.line, column: biggest.column, endLine: biggest.line, endColumn: biggest.endColumn }, related: [] } : { location: fallback, related: [] };
  }
  if (rule === 'call' && !log) return { location: callLocation(symbol, ctx, fallback.line) ?? fallback, related: [] };
  if (rule === 'program' || !log) return { location: fallback, related: [] };
  const failing = failingLocation(log, ctx, program);
  switch (rule) {
    case 'failing-insn': {
      return { location: failing ?? fallback, related: /_or_null/.test(log.error ?? '') ? nullOrigin(log, ctx, program) : [] };
    }
    case 'call':
      return { location: failing ?? fallback, related: [] };
    case 'acquire-site': {
      const acquired = log.unreleasedRef?.allocInsn;
      const site = locationOf(sourceOf(acquired, log, program), ctx);
      return heldToExit(site, acquired, failing, fallback, log, ctx, program, ['the path that leaks the reference takes this branch', 'the program can exit here without releasing the reference']);
    }
    case 'lock-site': {
      const lock = [...log.tail].reverse().find((r) => /^call bpf_spin_lock#/.test(r.text));
      const site = recordLocation(lock, log, ctx, program);
      return heldToExit(site, lock?.idx, failing, fallback, log, ctx, program, ['the path that keeps the lock takes this branch', 'the program can end here with the lock taken']);
    }
    case 'r0-setter': {
      const setter = recordLocation(log.r0Setter, log, ctx, program);
      return { location: setter ?? failing ?? fallback, related: setter ? related(failing, 'the program exits here with that value') : [] };
    }
    case 'loop-header': {
      const loc = loopHeaderLocation(log, ctx, program);
      const hot = hottestLines(log, ctx, program).map((h) => ({ file: h.loc.file, line: h.loc.line, column: h.loc.column, message: `verified ${h.visits} times` }));
      return { location: loc ?? failing ?? fallback, related: hot };
    }
  }
}
