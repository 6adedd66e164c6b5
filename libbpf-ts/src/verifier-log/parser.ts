/**
 * Streaming parser of kernel verifier logs. Memory stays bounded whatever the log length: besides a fixed
 * number of kept records and message lines, it only holds maps keyed by instruction index.
 */
import { jumpTarget } from './insn';
import { LineSplitter } from './line-splitter';
import { classifyLine, type LogLine } from './lines';
import { findR0Setter } from './path';
import { readVerdict } from './verdict';
import type { InsnRecord, LogParser, LogParserOptions, ParsedLog, SourceRef, VerifierFunc, VerifierStats } from './types';

const DEFAULT_TAIL_RECORDS = 512;
const DEFAULT_MAX_ERROR_LINES = 64;
/** Distinct annotations shared between instructions; a program has at most one per source line. */
const MAX_INTERNED_SOURCES = 1 << 16;
const NAMED_FUNC = /[Ff]unc#(\d+) \('([^']+)'\)/;

/**
 * A copy of `s` that does not keep alive the (possibly huge) chunk it was sliced from:
 * V8 substrings point into their parent string.
 */
function detach(s: string): string {
  return (' ' + s).slice(1);
}

/** How the first line tells a complete log from a tail kept by a rotating buffer. */
type Head =
  | { kind: 'unseen' }
  | { kind: 'annotation' } // complete if the first numbered line is instruction 0
  | { kind: 'message' } // complete if no instruction follows (the kernel printed only messages)
  | { kind: 'decided'; truncated: boolean };

class VerifierLogParser implements LogParser {
  private readonly splitter = new LineSplitter((line) => this.line(line));
  private readonly tailSize: number;
  private readonly maxErrorLines: number;
  private readonly ring: InsnRecord[] = [];
  private ringNext = 0;
  private readonly visits = new Map<number, number>();
  private readonly backEdgeKeys = new Set<number>();
  private readonly backEdges: { from: number; to: number }[] = [];
  private readonly sourceByInsn = new Map<number, SourceRef>();
  private readonly interned = new Map<string, SourceRef>();
  private readonly funcs = new Map<number, VerifierFunc>();
  private stats: Partial<VerifierStats> | undefined;
  private messages: string[] = [];
  private currentSource: SourceRef | undefined;
  private pendingSource: SourceRef | undefined;
  private pendingResume: number | undefined;
  private pendingPathStart = false;
  private pendingFunc: VerifierFunc | undefined;
  private head: Head = { kind: 'unseen' };
  private sawInsn = false;

  constructor(opts: LogParserOptions) {
    this.tailSize = Math.max(1, opts.tailRecords ?? DEFAULT_TAIL_RECORDS);
    this.maxErrorLines = Math.max(1, opts.maxErrorLines ?? DEFAULT_MAX_ERROR_LINES);
  }

  write(chunk: string | Uint8Array): void {
    this.splitter.write(chunk);
  }

  end(): ParsedLog {
    this.splitter.end();
    const tail = this.tail();
    const errorLines = this.messages;
    const error = errorLines[0];
    const verdict = readVerdict(errorLines);
    const last = tail[tail.length - 1];
    const atCall = verdict.callDepth === true && last !== undefined && /^call pc[+-]\d+$/.test(last.text);
    const failingInsn = error !== undefined && (!verdict.programWide || atCall) ? last : undefined;
    const result: ParsedLog = {
      errorLines,
      sourceByInsn: this.sourceByInsn,
      visits: this.visits,
      backEdges: this.backEdges,
      funcs: [...this.funcs.values()].sort((a, b) => a.index - b.index),
      tail,
      truncated: this.isTruncated(),
      lineCount: this.splitter.lineCount,
      byteCount: this.splitter.byteCount,
    };
    if (error !== undefined) result.error = error;
    if (failingInsn) {
      result.failingInsn = failingInsn;
      const source = this.sourceAt(failingInsn.idx) ?? failingInsn.source;
      if (source) result.failingSource = source;
      const r0Setter = findR0Setter(tail, tail.length - 1);
      if (r0Setter) result.r0Setter = r0Setter;
    } else if (error !== undefined && this.pendingSource) {
      // An annotation right before the error and followed by no instruction (`back-edge from insn X to Y`).
      result.failingSource = this.pendingSource;
    }
    if (verdict.unreleasedRef) {
      const allocSource = this.sourceAt(verdict.unreleasedRef.allocInsn);
      result.unreleasedRef = allocSource ? { ...verdict.unreleasedRef, allocSource } : verdict.unreleasedRef;
    }
    if (verdict.infiniteLoopInsn !== undefined) result.infiniteLoopInsn = verdict.infiniteLoopInsn;
    if (verdict.backEdgeFrom) result.backEdgeFrom = verdict.backEdgeFrom;
    if (verdict.tooLarge) result.tooLarge = true;
    if (this.stats) result.stats = { ...this.stats, insnsProcessed: this.stats.insnsProcessed ?? 0 };
    return result;
  }

  private line(text: string): void {
    const line = classifyLine(text);
    if (this.head.kind === 'unseen' || this.head.kind === 'annotation') this.judgeHead(line, text);
    switch (line.kind) {
      case 'insn':
        this.insn(line);
        if (line.message !== undefined) this.message(line.message);
        break;
      case 'state':
        this.funcStart(line.idx);
        break;
      case 'source':
        this.source(text, line);
        break;
      case 'from':
        this.pendingResume = line.from;
        break;
      case 'func':
        this.func(line.index).insn = line.insn;
        break;
      case 'validating':
        this.func(line.index).name = detach(line.name);
        this.pendingFunc = this.func(line.index);
        this.pendingPathStart = true;
        this.pendingResume = undefined;
        break;
      case 'stats':
        this.stats = { ...this.stats, ...line.stats };
        break;
      case 'message':
        this.message(line.text);
        break;
      case 'noise':
        break;
    }
  }

  private judgeHead(line: LogLine, text: string): void {
    if (this.head.kind === 'annotation') {
      if (line.kind === 'insn' || line.kind === 'state') this.head = { kind: 'decided', truncated: line.idx !== 0 };
      return;
    }
    if (text.trim().length === 0) return;
    switch (line.kind) {
      case 'insn':
      case 'state':
        this.head = { kind: 'decided', truncated: line.idx !== 0 };
        break;
      case 'func':
        this.head = { kind: 'decided', truncated: line.index !== 0 };
        break;
      case 'validating':
      case 'stats':
        this.head = { kind: 'decided', truncated: false };
        break;
      case 'source':
        this.head = { kind: 'annotation' };
        break;
      case 'message':
        this.head = { kind: 'message' };
        break;
      case 'from':
      case 'noise':
        this.head = { kind: 'decided', truncated: true };
        break;
    }
  }

  private isTruncated(): boolean {
    switch (this.head.kind) {
      case 'decided':
        return this.head.truncated;
      case 'message':
        return this.sawInsn;
      default:
        return false;
    }
  }

  private insn(line: Extract<LogLine, { kind: 'insn' }>): void {
    const { idx } = line;
    this.sawInsn = true;
    this.funcStart(idx);
    const rec: InsnRecord = { idx, text: detach(line.text), opcode: line.opcode };
    if (line.state !== undefined) rec.state = detach(line.state);
    if (this.pendingSource) {
      this.sourceByInsn.set(idx, this.pendingSource);
      this.pendingSource = undefined;
    }
    if (this.currentSource) rec.source = this.currentSource;
    if (this.pendingResume !== undefined) {
      rec.resumedFrom = this.pendingResume;
      this.pendingResume = undefined;
    }
    if (this.pendingPathStart) {
      rec.pathStart = true;
      this.pendingPathStart = false;
    }
    this.ring[this.ringNext] = rec;
    this.ringNext = (this.ringNext + 1) % this.tailSize;
    this.visits.set(idx, (this.visits.get(idx) ?? 0) + 1);
    const target = jumpTarget(idx, line.text);
    if (target !== undefined && target <= idx) {
      const key = idx * 0x400000 + target;
      if (!this.backEdgeKeys.has(key)) {
        this.backEdgeKeys.add(key);
        this.backEdges.push({ from: idx, to: target });
      }
    }
    if (this.messages.length > 0) this.messages = [];
  }

  private source(raw: string, line: Extract<LogLine, { kind: 'source' }>): void {
    let ref = this.interned.get(raw);
    if (!ref) {
      ref = { text: detach(line.text), file: detach(line.file), line: line.line };
      if (this.interned.size < MAX_INTERNED_SOURCES) this.interned.set(detach(raw), ref);
    }
    this.currentSource = ref;
    this.pendingSource = ref;
  }

  private message(text: string): void {
    if (this.messages.length < this.maxErrorLines) this.messages.push(detach(text));
    if (text.includes('unc#')) {
      const m = NAMED_FUNC.exec(text);
      if (m) this.func(Number(m[1])).name ??= detach(m[2]);
    }
  }

  private func(index: number): VerifierFunc {
    let info = this.funcs.get(index);
    if (!info) {
      info = { index };
      this.funcs.set(index, info);
    }
    return info;
  }

  /** `Validating foo() func#1...` is followed by the function's first state or instruction. */
  private funcStart(idx: number): void {
    if (!this.pendingFunc) return;
    this.pendingFunc.insn ??= idx;
    this.pendingFunc = undefined;
  }

  /** The annotation of `idx`, or of the nearest earlier annotated instruction of the same function. */
  private sourceAt(idx: number): SourceRef | undefined {
    const exact = this.sourceByInsn.get(idx);
    if (exact) return exact;
    let floor = 0;
    for (const f of this.funcs.values()) if (f.insn !== undefined && f.insn <= idx && f.insn > floor) floor = f.insn;
    let best = -1;
    for (const i of this.sourceByInsn.keys()) if (i < idx && i >= floor && i > best) best = i;
    return best >= 0 ? this.sourceByInsn.get(best) : undefined;
  }

  private tail(): InsnRecord[] {
    if (this.ring.length < this.tailSize) return this.ring.slice();
    return [...this.ring.slice(this.ringNext), ...this.ring.slice(0, this.ringNext)];
  }
}

export function createLogParser(opts: LogParserOptions = {}): LogParser {
  return new VerifierLogParser(opts);
}
