import { accessSync, constants, readFileSync } from 'node:fs';
import { arch, hostname, release } from 'node:os';
import { libbpfVersion } from '@ebpf-studio/libbpf-ts';
import { PROTOCOL_VERSION, type AgentInfo } from '../protocol';
import { AGENT_VERSION } from './version';

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Effective capability mask of this process (from /proc/self/status). */
function effectiveCaps(): bigint {
  const status = readFileSync('/proc/self/status', 'utf8');
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;
const CAP_BPF = 39n;

export function nodeInfo(): AgentInfo {
  const problems: string[] = [];
  let version: string | undefined;
  try {
    version = libbpfVersion();
  } catch (err) {
    problems.push((err as Error).message);
  }
  const caps = effectiveCaps();
  const has = (cap: bigint): boolean => (caps & (1n << cap)) !== 0n;
  if (!has(CAP_BPF) && !has(CAP_SYS_ADMIN)) {
    problems.push('no CAP_BPF — run the agent as root, via `sudo -n`, or grant CAP_BPF and CAP_NET_ADMIN');
  } else if (!has(CAP_NET_ADMIN) && !has(CAP_SYS_ADMIN)) {
    problems.push('no CAP_NET_ADMIN — networking program types (xdp, tc, cgroup) cannot be loaded; grant CAP_NET_ADMIN');
  }
  const btf = readable('/sys/kernel/btf/vmlinux');
  if (!btf) problems.push('no kernel BTF at /sys/kernel/btf/vmlinux — CO-RE programs need a kernel built with CONFIG_DEBUG_INFO_BTF=y');
  return {
    protocolVersion: PROTOCOL_VERSION,
    agentVersion: AGENT_VERSION,
    hostname: hostname(),
    kernelRelease: release(),
    arch: arch(),
    uid: process.getuid?.() ?? -1,
    nodeVersion: process.version,
    ...(version ? { libbpfVersion: version } : {}),
    problems,
    btf,
  };
}
