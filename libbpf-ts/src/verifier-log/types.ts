/** A source annotation of the verifier log: `; <text> @ <file>:<line>` (file '' and line 0 when the kernel gave none). */
export interface SourceRef {
  text: string;
  file: string;
  line: number;
}

/** One printed instruction: `7: (79) r1 = *(u64 *)(r0 +0)   ; R1_w=...`. */
export interface InsnRecord {
  idx: number;
  /** The instruction without its index, opcode and state: `r1 = *(u64 *)(r0 +0)`. */
  text: string;
  /** The opcode byte as the kernel prints it, two hex digits: `79`. */
  opcode?: string;
  /** The register state printed after the instruction (level 1 also prints a popped branch state here). */
  state?: string;
  /** The source annotation in effect when the instruction was printed. */
  source?: SourceRef;
  /** Level 2: the verifier resumed here from a branch pushed at this instruction (`from X to Y:`). */
  resumedFrom?: number;
  /** The verifier started a new walk here (`Validating foo() func#N...`): nothing before it is on this path. */
  pathStart?: boolean;
}

export interface VerifierStats {
  insnsProcessed: number;
  insnLimit?: number;
  maxStatesPerInsn?: number;
  totalStates?: number;
  peakStates?: number;
  markRead?: number;
  verificationTimeUsec?: number;
  /** One entry per function: `stack depth 0+16` gives [0, 16]. */
  stackDepth?: number[];
}

export interface VerifierFunc {
  index: number;
  name?: string;
  /** The index of the function's first instruction. */
  insn?: number;
}

export interface ParsedLog {
  /** The kernel's verdict message, e.g. "R0 invalid mem access 'map_value_or_null'". */
  error?: string;
  /** Every message line between the last instruction and the statistics (bounded by maxErrorLines). */
  errorLines: string[];
  /** The instruction the error is about; absent for program-wide errors (e.g. the combined stack size). */
  failingInsn?: InsnRecord;
  /** The source annotation in effect for the failing instruction. */
  failingSource?: SourceRef;
  /** Instruction index → the annotation printed right before it (bounded by the program size). */
  sourceByInsn: Map<number, SourceRef>;
  /** Instruction index → how often it was printed. */
  visits: Map<number, number>;
  /** Backward jumps seen in instruction texts (`goto pc-N`: to = idx + 1 - N), each once, in order of first sight. */
  backEdges: { from: number; to: number }[];
  /** `Unreleased reference id=2 alloc_insn=13`, with the annotation of the acquiring instruction. */
  unreleasedRef?: { id: number; allocInsn: number; allocSource?: SourceRef };
  /** `infinite loop detected at insn N`. */
  infiniteLoopInsn?: number;
  /** `back-edge from insn X to Y`. */
  backEdgeFrom?: { from: number; to: number };
  /** `BPF program is too large. Processed N insn`. */
  tooLarge?: boolean;
  /** The last instruction before the failing one, on its path, that wrote r0. */
  r0Setter?: InsnRecord;
  stats?: VerifierStats;
  funcs: VerifierFunc[];
  /** The last instruction records (oldest first). */
  tail: InsnRecord[];
  /** The head of the log is missing (a rotating log buffer kept only the tail). */
  truncated: boolean;
  lineCount: number;
  byteCount: number;
}

export interface LogParserOptions {
  /** How many instruction records to keep in `tail` (default 512). */
  tailRecords?: number;
  /** How many message lines to keep in `errorLines` (default 64). */
  maxErrorLines?: number;
}

export interface LogParser {
  write(chunk: string | Uint8Array): void;
  end(): ParsedLog;
}
