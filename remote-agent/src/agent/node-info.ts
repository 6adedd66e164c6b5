import { accessSync, constants, readFileSync } from 'node:fs';
import { arch, hostname, networkInterfaces, release } from 'node:os';
import { CAPABILITIES, effectiveCapabilities, interfaceIndex, kernelFeatures, libbpfVersion, listLinks, noBpfCapability } from '@ebpf-studio/libbpf-ts';
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

const CAP_NET_ADMIN = CAPABILITIES['net_admin']!;
const CAP_SYS_ADMIN = CAPABILITIES['sys_admin']!;

function interfaces(): NonNullable<AgentInfo['interfaces']> {
  return Object.entries(networkInterfaces()).flatMap(([name, addrs]) => {
    try {
      return [{ name, ifindex: interfaceIndex(name), addresses: (addrs ?? []).map((a) => a.cidr ?? a.address) }];
    } catch {
      return [];
    }
  });
}

function cgroup2Mount(): string | undefined {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .find((f) => f[2] === 'cgroup2')?.[1];
}

/** What is on the node beyond the basics; each part is best effort (an unprivileged agent sees less). */
function inventory(): Pick<AgentInfo, 'interfaces' | 'cgroup2' | 'features' | 'links'> {
  const ifaces = interfaces();
  const names = new Map(ifaces.map((i) => [i.ifindex, i.name]));
  const facts: Pick<AgentInfo, 'interfaces' | 'cgroup2' | 'features' | 'links'> = { interfaces: ifaces };
  const cgroup2 = cgroup2Mount();
  if (cgroup2) facts.cgroup2 = cgroup2;
  try {
    const { kernelRelease: _release, ...features } = kernelFeatures();
    facts.features = features as unknown as Record<string, boolean | string>;
    facts.links = listLinks().map((l) => ({ ...l, ...(l.ifindex !== undefined && names.has(l.ifindex) ? { ifname: names.get(l.ifindex)! } : {}) }));
  } catch {
    // Without privileges the kernel answers neither; problems[] already says why.
  }
  return facts;
}

export function nodeInfo(): AgentInfo {
  const problems: string[] = [];
  let version: string | undefined;
  try {
    version = libbpfVersion();
  } catch (err) {
    problems.push((err as Error).message);
  }
  const caps = effectiveCapabilities();
  if (noBpfCapability(caps)) {
    problems.push('no CAP_BPF — run the agent as root, via `sudo -n`, or grant CAP_BPF and CAP_NET_ADMIN');
  } else if (!caps.has(CAP_NET_ADMIN) && !caps.has(CAP_SYS_ADMIN)) {
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
    ...(problems.length === 0 ? inventory() : { interfaces: interfaces() }),
  };
}
