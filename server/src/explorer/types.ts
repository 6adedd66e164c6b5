/**
 * What the Verifier Explorer shows (web/): plain JSON, served by `ebpf-studio explore` at /api/explorer
 * and posted to the VS Code webview. The page (web/src/data.ts) imports these types; keep this file free of imports.
 */

export interface ExplorerData {
  /** The explored file: a source path, or a saved log's path when there is no source. */
  file: string;
  /** The C source; absent when only a log was given. */
  source?: string;
  /** The kernel release that verified, when known. */
  kernel?: string;
  /** Diagnostics of the whole file (clang's, or for no program in particular). */
  diagnostics: ExplorerDiagnostic[];
  programs: ExplorerProgram[];
}

export type ExplorerVerdict = 'accepted' | 'rejected' | 'not-loaded';

export interface ExplorerProgram {
  name: string;
  section?: string;
  verdict: ExplorerVerdict;
  /** The verifier's (or libbpf's) own words for a rejection. */
  message?: string;
  /** Diagnostics on lines of `source` (1-based lines and columns). */
  diagnostics: ExplorerDiagnostic[];
  /** Every instruction the log printed, in log order (the verifier's walk; an index recurs per visit). */
  instructions: ExplorerInstruction[];
  insnsProcessed?: number;
  /** The log lost its head (a rotating buffer kept only the tail). */
  truncated?: boolean;
}

export interface ExplorerDiagnostic {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: 'error' | 'warning' | 'information';
  code: string;
  message: string;
  fix?: string;
}

export interface SourceAnnotation {
  text: string;
  file: string;
  line: number;
}

export interface ExplorerInstruction {
  /** The instruction's index in the program. */
  idx: number;
  /** As the kernel printed it, without index and opcode: `r1 = *(u32 *)(r1 +30)`. */
  text: string;
  /** The line of `source` the instruction belongs to (by the log's source annotations). */
  line?: number;
  /** The source annotation the kernel printed right before this instruction (only where it changed). */
  annotation?: SourceAnnotation;
  /** The state the kernel printed after the instruction (at level 2: the registers it touched). */
  state?: string;
  /** The registers of the current frame after the instruction, rebuilt from the log's state lines. */
  registers?: Record<string, string>;
  /** Stack slots of the current frame after the instruction (`fp-8` → `mmmm????`). */
  stack?: Record<string, string>;
  /** How often the log printed this instruction index. */
  visits: number;
  /** The instruction the verifier rejected. */
  isError?: boolean;
}
