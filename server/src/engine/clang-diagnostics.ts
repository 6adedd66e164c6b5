import type { Severity } from './types';

export interface ClangDiagnostic {
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  severity: Severity | 'note';
  message: string;
  /** `<severity>: <message>` as clang printed it (what the catalogue's clang patterns match). */
  raw: string;
  /**
   * For a back-end error (compiled from stdin under a line marker) clang reports the enclosing
   * function and adds "could not determine the original source location for FILE:L:C": that L:C.
   */
  origin?: { line: number; column: number };
  flag?: string;
}

// file:line:col:{ranges}: severity: message [-Wflag]
const LINE = /^(.*?):(\d+):(\d+):(?:((?:\{\d+:\d+-\d+:\d+\})+):)? (fatal error|error|warning|note|remark): (.*?)(?: \[([^\]]+)\])?$/;
// <unknown>:0:0: ... / error: <unknown>:0:0: in function f i32 (ptr): message
const NO_LOCATION = /^(?:(fatal error|error|warning): )?(?:<unknown>:0:0: )?(?:in function (\S+)[^:]*: )?(.*)$/;

function severityOf(word: string): ClangDiagnostic['severity'] {
  if (word === 'warning') return 'warning';
  if (word === 'note') return 'note';
  if (word === 'remark') return 'information';
  return 'error';
}

/**
 * Parse clang's stderr (run with -fno-color-diagnostics -fdiagnostics-print-source-range-info).
 * Duplicates (clang repeats the BPF stack-limit error per basic block) are dropped; `functionOnly`
 * collects errors that carry no location but name a function.
 */
export function parseClangDiagnostics(stderr: string): { diagnostics: ClangDiagnostic[]; unlocated: { message: string; functionName?: string; severity: Severity }[] } {
  const diagnostics: ClangDiagnostic[] = [];
  const unlocated: { message: string; functionName?: string; severity: Severity }[] = [];
  const seen = new Set<string>();
  for (const raw of stderr.split('\n')) {
    const line = raw.trimEnd();
    const m = LINE.exec(line);
    if (m && !line.startsWith(' ')) {
      const [, file, l, c, ranges, sev, message, flag] = m;
      if (file === '<unknown>') {
        const nl = NO_LOCATION.exec(message!);
        unlocated.push({ message: nl?.[3] ?? message!, ...(nl?.[2] ? { functionName: nl[2] } : {}), severity: severityOf(sev!) === 'warning' ? 'warning' : 'error' });
        continue;
      }
      const origin = sev === 'note' ? /^could not determine the original source location for .*:(\d+):(\d+)$/.exec(message!) : null;
      const previous = diagnostics[diagnostics.length - 1];
      if (origin && previous && previous.severity !== 'note') {
        previous.origin ??= { line: Number(origin[1]), column: Number(origin[2]) };
        continue;
      }
      const key = `${file}:${l}:${c}:${sev}:${message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const first = ranges ? /\{(\d+):(\d+)-(\d+):(\d+)\}/.exec(ranges) : null;
      diagnostics.push({
        file: file!,
        line: Number(l),
        column: Number(c),
        ...(first ? { endLine: Number(first[3]), endColumn: Number(first[4]) } : {}),
        severity: severityOf(sev!),
        message: message!,
        raw: `${sev}: ${message}`,
        ...(flag ? { flag } : {}),
      });
      continue;
    }
    const bare = /^(fatal error|error|warning): (.*)$/.exec(line);
    if (bare) {
      const nl = NO_LOCATION.exec(bare[2]!);
      const key = `unlocated:${bare[2]}`;
      if (seen.has(key)) continue;
      seen.add(key);
      unlocated.push({ message: nl?.[3] ?? bare[2]!, ...(nl?.[2] ? { functionName: nl[2] } : {}), severity: bare[1] === 'warning' ? 'warning' : 'error' });
    }
  }
  return { diagnostics, unlocated };
}
