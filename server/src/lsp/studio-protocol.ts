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
}

export interface VerifyOnParams {
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

export interface NodeSummary {
  cluster?: string;
  name: string;
  ssh: string;
  reachable: boolean;
  kernel?: string;
  error?: string;
  sessions: {
    id: string;
    name: string;
    attachments: { id: string; program: string; target: string; mechanism: string }[];
    maps: { name: string; type: string }[];
  }[];
}

export interface AttachParams {
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

export interface MapsParams {
  node: string;
  session: string;
  map: string;
  pageSize?: number;
}
export interface MapsResult {
  entries: { key: unknown; value: unknown }[];
  more: boolean;
}

export interface TraceStartParams {
  node: string;
  session: string;
  /** Without a map: trace_pipe lines. */
  map?: string;
  btfType?: string;
}
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
} as const;
