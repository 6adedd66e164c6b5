/**
 * The custom LSP requests and notifications between the VS Code client and the server beyond
 * standard LSP. Dependency-free on purpose: the client imports this file's types (and method names)
 * without depending on the server's code.
 */

export interface TemplateSummary {
  name: string;
  summary: string;
}

export interface ScaffoldParams {
  template: string;
  /** Absolute directory (must be empty unless force). */
  dir: string;
  force?: boolean;
}
export interface ScaffoldResult {
  files: string[];
  /** The program file to open. */
  main: string;
  /** 0-based line of its first program's SEC("…"), where the editor should put the cursor. */
  programLine?: number;
}

/** verifyNow: re-verify an open document at once (no debounce, no cache); resolves once its diagnostics are published. */
export interface VerifyNowParams {
  uri: string;
}
export interface VerifyNowResult {
  /** Every program accepted (false also when it could not be verified: see error). */
  ok: boolean;
  error?: string;
}

/** explorerData: the open document verified with full (level-2) logs; the result is server/src/explorer/types.ts's ExplorerData. */
export interface ExplorerDataParams {
  uri: string;
}

/**
 * LSP work-done progress for a long request: the server reports on `$/progress` with this token what the
 * request is doing (e.g. "east-2: uploading the Node runtime 12.3/42.7 MB"); cancel the request itself.
 */
export interface WorkDoneParams {
  workDoneToken?: string | number;
}

export interface VerifyOnParams extends WorkDoneParams {
  uri: string;
  /** Node names / ssh targets; 'local' is this machine. */
  targets: string[];
}
export interface MatrixCell {
  verdict: 'accepted' | 'rejected' | 'not-loaded';
  kernel: string;
  code?: string;
}
export interface VerifyOnResult {
  programs: { name: string; section: string; verdicts: Record<string, MatrixCell> }[];
  unreachable: { node: string; error: string }[];
}

export interface NodesParams {
  /** Per node, how long to wait for its probe (default 20 s); a node that takes longer is listed unreachable. */
  timeoutMs?: number;
}

/** A node of the `nodes` request: 'local' (this machine, always first, without ssh or cluster), then the inventory's. */
export interface NodeSummary {
  cluster?: string;
  name: string;
  /** How the node is reached: an ssh_config alias or user@host[:port]; absent for this machine. */
  ssh?: string;
  reachable: boolean;
  kernel?: string;
  /** false: our agent is not on the node yet (the first verify or attach there uploads it); its sessions are not listed. */
  agentInstalled?: boolean;
  error?: string;
  sessions: {
    id: string;
    name: string;
    /** Opened (and heartbeated) by this language server. */
    owned?: boolean;
    attachments: { id: string; program: string; target: string; mechanism: string }[];
    maps: { name: string; type: string }[];
  }[];
}

export interface AttachParams extends WorkDoneParams {
  uri: string;
  program: string;
  /** Node name, or 'local'. */
  node: string;
  /** Interface, cgroup path, sockhash map, kernel symbol — as `ebpf-studio attach --to`. */
  to?: string;
  leaseMs?: number;
}
export interface AttachResult {
  node: string;
  session: string;
  attachment: string;
  description: string;
}

export interface DetachParams {
  node: string;
  session: string;
  attachment?: string;
}

export interface DetachResult {
  /** The attachments that were detached. */
  detached: string[];
}

export interface MapsParams {
  node: string;
  session: string;
  map: string;
  pageSize?: number;
  /** The previous page's `next`. */
  after?: string;
}
export interface MapsResult {
  entries: { key: unknown; value: unknown }[];
  more: boolean;
  /** Pass as `after` for the next page (when more). */
  next?: string;
}

export interface TraceStartParams {
  node: string;
  session: string;
  /** Without a map: trace_pipe lines. */
  map?: string;
  btfType?: string;
}
export interface TraceStartResult {
  trace: string;
}
export interface TraceStopParams {
  trace: string;
}
/** Sent as `ebpfStudio/trace.events`; records that are not text are JSON. droppedTransport includes batches the server dropped because the client lagged. */
export interface TraceEvents {
  trace: string;
  lines: string[];
  lostKernel: number;
  droppedTransport: number;
}

export interface PolicyParams {
  /** A project directory holding ebpf-studio.yaml (as `ebpf-studio apply <dir>`). */
  dir: string;
}
export interface HealthParams extends PolicyParams {
  service: string;
  target: string;
  state: 'up' | 'down';
}

/** apply and health: what was written into the running session's policy maps. */
export interface PolicyWriteResult {
  /** 'local' or the node the run's session is on. */
  node: string;
  session: string;
  updates: number;
  deletes: number;
  /** Positioned warnings of ebpf-studio.yaml (apply), as file:line:col: message. */
  warnings: string[];
}

export interface StatusResult {
  node: string;
  session: string;
  services: {
    service: string;
    serviceId: number;
    /** Steered connects + datagrams. */
    total: number;
    noBackend: { connects: number; datagrams: number };
    clusters: { cluster: string; clusterId: number; connects: number; datagrams: number; share: number; expectedShare: number }[];
  }[];
}

/** Server → client: the passphrase of an encrypted SSH identity file (the client keeps it in SecretStorage). */
export interface PassphraseParams {
  /** The identity file's path. */
  key: string;
  /** The node being connected to. */
  node?: string;
  /** The passphrase given last time was wrong: ask again. */
  retry?: boolean;
}
export interface PassphraseResult {
  /** Absent: the user declined (the key is skipped). */
  passphrase?: string;
}

export const StudioMethods = {
  templates: 'ebpfStudio/templates',
  scaffold: 'ebpfStudio/scaffold',
  verifyNow: 'ebpfStudio/verifyNow',
  verifyOn: 'ebpfStudio/verifyOn',
  verifierLog: 'ebpfStudio/verifierLog',
  explorerData: 'ebpfStudio/explorerData',
  nodes: 'ebpfStudio/nodes',
  attach: 'ebpfStudio/attach',
  detach: 'ebpfStudio/detach',
  maps: 'ebpfStudio/maps',
  traceStart: 'ebpfStudio/trace.start',
  traceStop: 'ebpfStudio/trace.stop',
  traceEvents: 'ebpfStudio/trace.events',
  apply: 'ebpfStudio/apply',
  health: 'ebpfStudio/health',
  status: 'ebpfStudio/status',
  passphrase: 'ebpfStudio/passphrase',
} as const;

/**
 * How the server tells the client where a file verified when `ebpfStudio.verifyTarget` is left at its
 * default and this machine's kernel cannot verify (not root, no libbpf, no BTF): an information
 * diagnostic on line 1 of the file with this code, whose message starts `Verified on NODE (no local kernel):`.
 * Without a node to fall back to, the file's not-run diagnostic names the fix, starting `No kernel to verify with:`.
 */
export const VerifyFallback = {
  code: 'EBPF-STUDIO-VERIFY-FALLBACK',
  /** Matches the fallback note's message; group 1 is the node. */
  note: /^Verified on (\S+) \(no local kernel\)/,
  /** Matches the not-run diagnostic's message when no node can stand in. */
  none: /No kernel to verify with( fully)?:/,
} as const;
