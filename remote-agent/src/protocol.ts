/**
 * The JSON-RPC protocol between a controller (engine, CLI, language server) and an agent on a machine
 * with a kernel. Framing is vscode-jsonrpc's (Content-Length headers, as LSP). User input only ever
 * travels inside these messages.
 */
import { RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { KernelKfuncs, LibbpfMessage, ProgramVerdict } from '@ebpf-studio/libbpf-ts';

export const PROTOCOL_VERSION = 1;

export interface AgentInfo {
  protocolVersion: number;
  agentVersion: string;
  hostname: string;
  kernelRelease: string;
  arch: string;
  uid: number;
  nodeVersion: string;
  libbpfVersion?: string;
  /** Why the agent cannot load BPF here (missing libbpf, no privileges ...), with the fix. */
  problems: string[];
  btf: boolean;
  /** Network interfaces with their index and addresses. */
  interfaces?: { name: string; ifindex: number; addresses: string[] }[];
  /** Where the cgroup v2 file system is mounted. */
  cgroup2?: string;
  /** Kernel features that decide how programs attach (tcx, sk_msg links, kprobes ...). */
  features?: Record<string, boolean | string>;
  /** bpf_links already in the kernel (a CNI's, other tools', ours), by hook. */
  links?: { id: number; type: string; progId: number; ifname?: string; cgroupId?: string; attachType?: number }[];
}

export interface InitialValuePatchWire {
  section: string;
  offset: number;
  /** base64 */
  bytes: string;
  variable: string;
}

export interface VerifyParams {
  /** The BPF ELF object, base64. */
  object: string;
  objectName?: string;
  programs?: string[];
  patches?: InitialValuePatchWire[];
  /** Verify as a loader holding only these capabilities, e.g. "bpf,net_admin". */
  caps?: string;
  logLevel?: 1 | 2;
  logSize?: number;
  timeoutMs?: number;
}

export interface VerifyResult {
  programs: ProgramVerdict[];
  openError?: string;
  libbpf: LibbpfMessage[];
  libbpfVersion: string;
  kernelRelease: string;
  hostname: string;
}

/** error.data of a failed request: lets the controller rebuild a typed error with its fix. */
export interface AgentErrorData {
  kind: 'NotSupportedError' | 'PermissionError' | 'BpfError' | 'Timeout' | 'WorkerDied' | 'Error';
  fix?: string;
  errno?: number;
}

export const ERROR_CODES = {
  failed: -32000,
  cancelled: -32800,
} as const;

export interface HelpersParams {
  /** libbpf program type names ('xdp', 'sched_cls', ...). */
  progTypes: string[];
  /** enum bpf_func_id values to probe. */
  helperIds: number[];
}

/** For each program type this kernel can load, the helper ids it may call. */
export type HelpersResult = Record<string, number[]>;

/**
 * The kfuncs of the node's kernel, listed by the agent from its /sys/kernel/btf/vmlinux (some 30 KB of
 * JSON where the BTF itself is over 5 MB); `btf: false` when that kernel has no BTF, so no kfuncs.
 */
export type KfuncsResult = KernelKfuncs;

export interface BuildParams {
  /** BPF C text, compiled as if it were `file` (the name diagnostics and line info carry). */
  text: string;
  file: string;
  /** clang arguments besides input and output (argument array; never through a shell). */
  args: string[];
  clang?: string;
  timeoutMs?: number;
}

export interface BuildResult {
  /** base64 ELF object; absent when clang failed. */
  object?: string;
  stderr: string;
  clangVersion: string;
}

export const InfoRequest = new RequestType0<AgentInfo, void>('agent/info');
export const BuildRequest = new RequestType<BuildParams, BuildResult, AgentErrorData>('agent/build');
export const HelpersRequest = new RequestType<HelpersParams, HelpersResult, AgentErrorData>('agent/helpers');
/** No parameters: the agent reads the one fixed BTF path. Agents older than this request answer MethodNotFound. */
export const KfuncsRequest = new RequestType0<KfuncsResult, AgentErrorData>('agent/kfuncs');
export const VerifyRequest = new RequestType<VerifyParams, VerifyResult, AgentErrorData>('agent/verify');
