import { NotSupportedError } from '../errors';
import { CAPABILITIES, capabilityNames } from './capabilities';
import type { LockdownMode } from './features';

const CAP_NET_ADMIN = CAPABILITIES['net_admin']!;
const CAP_SYS_ADMIN = CAPABILITIES['sys_admin']!;
const CAP_PERFMON = CAPABILITIES['perfmon']!;
const CAP_BPF = CAPABILITIES['bpf']!;

/** Program types (libbpf's names) the kernel loads only for a holder of CAP_NET_ADMIN (kernel/bpf/syscall.c, is_net_admin_prog_type). */
const NET_ADMIN_TYPES = new Set([
  'sched_cls', 'sched_act', 'xdp', 'lwt_in', 'lwt_out', 'lwt_xmit', 'lwt_seg6local', 'sk_skb', 'sk_msg', 'flow_dissector',
  'cgroup_device', 'cgroup_sock', 'cgroup_sock_addr', 'cgroup_sockopt', 'cgroup_sysctl', 'cgroup_skb', 'sock_ops', 'sk_lookup',
]);

/** Program types the kernel loads only for a holder of CAP_PERFMON (is_perfmon_prog_type). */
const PERFMON_TYPES = new Set(['kprobe', 'tracepoint', 'raw_tracepoint', 'raw_tracepoint_writable', 'perf_event', 'tracing', 'lsm', 'struct_ops', 'ext']);

/** The loader cannot load BPF at all: nothing can be verified, whatever the program. */
export function noBpfCapability(held: ReadonlySet<number>): NotSupportedError | undefined {
  if (held.has(CAP_BPF) || held.has(CAP_SYS_ADMIN)) return undefined;
  return new NotSupportedError('loading BPF programs (EPERM)', 'run as root, or grant CAP_BPF and CAP_NET_ADMIN (CAP_PERFMON for tracing programs), or use `sudo`');
}

/**
 * Why the kernel answered EPERM before its verifier ran on a program of `progType`, for a loader holding
 * `held` (which can load BPF at all): the capability the type takes and the loader lacks, or, when it lacks
 * none, that the kernel forbids the program here (lockdown, a security module).
 */
export function loadEpermReason(progType: string, held: ReadonlySet<number>, lockdown: LockdownMode): string {
  const has = (cap: number): boolean => held.has(cap) || held.has(CAP_SYS_ADMIN);
  const needed = [...(NET_ADMIN_TYPES.has(progType) ? [CAP_NET_ADMIN] : []), ...(PERFMON_TYPES.has(progType) ? [CAP_PERFMON] : [])];
  const missing = needed.filter((cap) => !has(cap));
  if (missing.length > 0) return `EPERM — ${progType} programs need ${capabilityNames(missing)}, which this loader does not hold`;
  const holds = capabilityNames([CAP_BPF, ...needed, CAP_SYS_ADMIN].filter((cap) => held.has(cap)));
  const why =
    lockdown === 'integrity' || lockdown === 'confidentiality'
      ? `kernel lockdown (${lockdown}) or a security module (LSM) forbids it`
      : 'kernel lockdown or a security module (LSM) forbids it, or this kernel cannot attach it';
  return `EPERM although this loader holds ${holds} — ${why}`;
}
