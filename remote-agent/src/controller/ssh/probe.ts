/**
 * The bootstrap's probe: what the node has (kernel, architecture, Node.js, privileges, BTF, libbpf,
 * clang, our payload and runtime), read from the block between the probe markers so that anything shell
 * start-up files print around it is ignored; and the preflight that turns missing pieces into errors
 * naming the fix, before anything is uploaded or started.
 */
import { AgentError } from '../agent-client';
import { MINIMUM_NODE_MAJOR, NODE_ARCHES, NODE_RUNTIME_VERSION, type NodeArch } from '../payload';
import { bootstrapCommand, PROBE_BEGIN, PROBE_END } from './bootstrap-script';
import type { SshConnection } from './connection';

const CAP_SYS_ADMIN = 21n;
const CAP_BPF = 39n;

export interface NodeProbe {
  readonly kernelRelease: string;
  /** `uname -m` */
  readonly machine: string;
  /** Our name for the architecture; undefined when we have no build for it. */
  readonly arch: NodeArch | undefined;
  readonly uid: number;
  readonly user: string;
  readonly home: string;
  /** What `node -v` printed ('' when there is no runnable node). */
  readonly nodeFound: string;
  /** The Node.js the agent will run with: the node's own (≥ 18), our uploaded runtime, or undefined. */
  readonly nodePath: string | undefined;
  /** Effective capabilities of the login shell. */
  readonly capEff: bigint;
  readonly btf: boolean;
  readonly libbpf: boolean;
  readonly clang: string | undefined;
  readonly tar: boolean;
  readonly payload: 'complete' | 'partial' | 'missing';
  readonly runtime: 'complete' | 'missing';
  /** Only probed when the node entry asks for sudo: 'ok', 'missing', or sudo's complaint. */
  readonly sudo: string | undefined;
  /** What the login shell printed before the probe block (rc files), for diagnostics. */
  readonly shellNoise: string;
}

export function parseProbe(stdout: string, where: string): NodeProbe {
  const begin = stdout.indexOf(`${PROBE_BEGIN}\n`);
  const end = stdout.indexOf(`${PROBE_END}\n`, begin);
  if (begin < 0 || end < 0) {
    throw new AgentError(`${where}: the bootstrap probe printed no result (is /bin/sh a POSIX shell?): ${stdout.slice(0, 300).trim() || '(no output)'}`, { kind: 'Error' }, where);
  }
  const fields = new Map<string, string>();
  for (const line of stdout.slice(begin + PROBE_BEGIN.length + 1, end).split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const get = (key: string): string => fields.get(key) ?? '';
  const arch = get('arch');
  const payload = get('payload');
  return {
    kernelRelease: get('kernel'),
    machine: get('machine'),
    arch: (NODE_ARCHES as readonly string[]).includes(arch) ? (arch as NodeArch) : undefined,
    uid: Number(get('uid') || -1),
    user: get('user'),
    home: get('home'),
    nodeFound: get('node_found'),
    nodePath: get('node') || undefined,
    capEff: /^[0-9a-f]+$/i.test(get('caps')) ? BigInt(`0x${get('caps')}`) : 0n,
    btf: get('btf') === 'yes',
    libbpf: get('libbpf') === 'yes',
    clang: get('clang') || undefined,
    tar: get('tar') === 'yes',
    payload: payload === 'complete' || payload === 'partial' ? payload : 'missing',
    runtime: get('runtime') === 'complete' ? 'complete' : 'missing',
    sudo: fields.has('sudo') ? get('sudo') : undefined,
    shellNoise: stdout.slice(0, begin),
  };
}

export async function probeNode(connection: SshConnection, payloadHash: string, sudo: boolean, where: string): Promise<NodeProbe> {
  const result = await connection.run(bootstrapCommand('probe', payloadHash, NODE_RUNTIME_VERSION, sudo));
  return parseProbe(result.stdout, where);
}

export interface PreflightProblem {
  readonly kind: 'NotSupportedError' | 'PermissionError';
  readonly message: string;
  readonly fix: string;
}

/** Why the agent cannot work on this node as configured, each with its fix. */
export function preflightProblems(probe: NodeProbe, sudo: boolean): PreflightProblem[] {
  const problems: PreflightProblem[] = [];
  const add = (kind: PreflightProblem['kind'], message: string, fix: string): void => {
    problems.push({ kind, message, fix });
  };
  if (!probe.arch) add('NotSupportedError', `no agent build for the node's architecture ${probe.machine}`, 'use an x86_64 or aarch64 node');
  if (sudo) {
    if (probe.sudo === 'missing') add('PermissionError', 'sudo: true is set for this node but sudo is not installed there', 'connect as root (User root in the ssh config), or install sudo and allow passwordless sudo for this user');
    else if (probe.sudo !== 'ok') add('PermissionError', `sudo -n refused (${probe.sudo || 'no reason given'}): it would ask for a password, which is never waited on`, `allow passwordless sudo for ${probe.user} (a NOPASSWD sudoers rule), or connect as root`);
  } else if (probe.uid !== 0) {
    const has = (cap: bigint): boolean => (probe.capEff & (1n << cap)) !== 0n;
    if (!has(CAP_BPF) && !has(CAP_SYS_ADMIN)) {
      add('PermissionError', `user ${probe.user} has no CAP_BPF there`, 'connect as root (User root), or set `sudo: true` for this node in ebpf-studio.yaml with passwordless sudo');
    }
  }
  if (!probe.btf) add('NotSupportedError', `kernel ${probe.kernelRelease} has no BTF (/sys/kernel/btf/vmlinux)`, 'boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian, Ubuntu, Fedora and RHEL kernels are)');
  if (!probe.libbpf) add('NotSupportedError', 'libbpf.so.1 is not installed', 'install libbpf 1.x: `apt-get install libbpf1` (Debian/Ubuntu) or `dnf install libbpf` (Fedora/RHEL)');
  if (!probe.nodePath && !probe.tar) add('NotSupportedError', `no Node.js ≥ ${MINIMUM_NODE_MAJOR}, and no tar/gzip to unpack the runtime we would upload`, `install tar and gzip, or Node.js ${MINIMUM_NODE_MAJOR} or later`);
  return problems;
}

/**
 * Throws one AgentError naming every problem and its fix (kind PermissionError when privileges are the
 * problem, else NotSupportedError, as the local agent reports them).
 */
export function preflight(probe: NodeProbe, sudo: boolean, where: string): void {
  const problems = preflightProblems(probe, sudo);
  if (problems.length === 0) return;
  const kind = problems.some((p) => p.kind === 'PermissionError') ? 'PermissionError' : 'NotSupportedError';
  throw new AgentError(`${where}: ${problems.map((p) => p.message).join('; ')}`, { kind, fix: problems.map((p) => p.fix).join('; ') }, where);
}
