/** The engine's results: plain data, the same for the CLI's --json and the language server. */

export type Severity = 'error' | 'warning' | 'information';
/** Who said it: the compiler, libbpf, the kernel's verifier, or the studio itself (where and how it verified). */
export type DiagnosticSource = 'clang' | 'libbpf' | 'verifier' | 'ebpf-studio';

export interface RelatedLocation {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** 1-based lines and columns; columns count UTF-16 code units, as editors do (clang's byte columns are converted). */
export interface EngineDiagnostic {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Severity;
  source: DiagnosticSource;
  code: string;
  message: string;
  /** The tool's own words, verbatim. */
  kernelMessage: string;
  explanation?: string;
  fix?: string;
  /** Repo-relative page that documents the code. */
  doc?: string;
  program?: string;
  related: RelatedLocation[];
  /** Set for diagnostics from a node other than the local machine. */
  node?: string;
  kernel?: string;
}

export type ProgramVerdictKind = 'accepted' | 'rejected' | 'not-loaded';

export interface ProgramReport {
  name: string;
  section: string;
  type: string;
  verdict: ProgramVerdictKind;
  reason?: string;
  insnsProcessed?: number;
  verifyMs?: number;
  line?: number;
  logTruncated?: boolean;
}

export interface VerifyReport {
  file: string;
  ok: boolean;
  programs: ProgramReport[];
  diagnostics: EngineDiagnostic[];
  kernel?: string;
  node?: string;
  /** The raw verifier logs of rejected programs (tails), by program name. */
  logs: Record<string, string>;
  /** Headers the source included (absolute paths): a change to one of them changes the verdict. */
  dependencies: string[];
  /** With several targets: every target's verdicts side by side. */
  matrix?: import('./matrix').VerdictMatrix;
  timings: { compileMs: number; verifyMs: number };
}
