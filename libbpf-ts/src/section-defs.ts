/**
 * The SEC() names libbpf understands, with the program type and expected attach type each one
 * implies. The table follows libbpf's section_defs (order matters: the first match wins) and
 * covers the names libbpf 1.1 — the version on Debian 12 — knows, plus later additions marked
 * with the libbpf version that introduced them.
 *
 * Pattern forms, as in libbpf: 'name' matches exactly; 'name+' matches 'name' or 'name/<extras>'.
 */

/** The libbpf version the loader uses; names added later are reported as not known. */
export const LIBBPF_VERSION = '1.1';

export interface SectionMatch {
  /** libbpf's program type name: 'xdp', 'sched_cls', 'cgroup_sock_addr', 'kprobe', ... */
  progType: string;
  /** libbpf's attach type name, e.g. 'cgroup_inet4_connect', when the section implies one. */
  expectedAttachType?: string;
  /** Whether libbpf LIBBPF_VERSION (1.1) recognises the name. */
  known: boolean;
  /** The libbpf version that added the name, when it is newer than LIBBPF_VERSION. */
  knownSince?: string;
  /** 'auto' when libbpf can attach the program from the SEC name alone (e.g. 'kprobe/tcp_v4_connect'). */
  attachable: 'auto' | 'manual';
}

export interface SectionName {
  /** The name to write in SEC(), without libbpf's '+' marker. */
  name: string;
  progType: string;
  knownSince?: string;
  /** How to spell the auto-attach target, e.g. 'kprobe/<function>'. */
  template?: string;
}

/**
 * 'always': libbpf attaches it by itself; 'with-target': only when the SEC name names the target
 * ('kprobe/<function>', not bare 'kprobe'); 'manual': the loader must attach it (to an interface, a cgroup, a map, ...).
 */
type AutoAttach = 'always' | 'with-target' | 'manual';

interface SectionDef {
  pattern: string;
  progType: string;
  attachType?: string;
  since?: string;
  autoAttach: AutoAttach;
  template?: string;
}

function def(pattern: string, progType: string, attachType?: string, extra: Partial<SectionDef> = {}): SectionDef {
  return { pattern, progType, ...(attachType ? { attachType } : {}), autoAttach: 'manual', ...extra };
}

/** A '+' definition whose extras name the attach target, so libbpf can attach it. */
function probe(pattern: string, progType: string, template: string, extra: Partial<SectionDef> = {}): SectionDef {
  return { pattern, progType, autoAttach: 'with-target', template, ...extra };
}

/** A BTF-attached program: the target comes from the SEC extras at load, and libbpf attaches it. */
function traced(pattern: string, progType: string, attachType: string | undefined, template: string, extra: Partial<SectionDef> = {}): SectionDef {
  return { pattern, progType, ...(attachType ? { attachType } : {}), autoAttach: 'always', template, ...extra };
}

const SECTION_DEFS: readonly SectionDef[] = [
  def('socket', 'socket_filter'),
  def('sk_reuseport/migrate', 'sk_reuseport', 'sk_reuseport_select_or_migrate'),
  def('sk_reuseport', 'sk_reuseport', 'sk_reuseport_select'),
  probe('kprobe+', 'kprobe', 'kprobe/<function>[+<offset>]'),
  probe('uprobe+', 'kprobe', 'uprobe/<binary>:<function>[+<offset>]'),
  probe('uprobe.s+', 'kprobe', 'uprobe.s/<binary>:<function>[+<offset>]'),
  probe('kretprobe+', 'kprobe', 'kretprobe/<function>'),
  probe('uretprobe+', 'kprobe', 'uretprobe/<binary>:<function>'),
  probe('uretprobe.s+', 'kprobe', 'uretprobe.s/<binary>:<function>'),
  probe('kprobe.multi+', 'kprobe', 'kprobe.multi/<pattern>', { attachType: 'trace_kprobe_multi' }),
  probe('kretprobe.multi+', 'kprobe', 'kretprobe.multi/<pattern>', { attachType: 'trace_kprobe_multi' }),
  probe('uprobe.multi+', 'kprobe', 'uprobe.multi/<binary>:<pattern>', { attachType: 'trace_uprobe_multi', since: '1.3' }),
  probe('uretprobe.multi+', 'kprobe', 'uretprobe.multi/<binary>:<pattern>', { attachType: 'trace_uprobe_multi', since: '1.3' }),
  probe('uprobe.multi.s+', 'kprobe', 'uprobe.multi.s/<binary>:<pattern>', { attachType: 'trace_uprobe_multi', since: '1.3' }),
  probe('uretprobe.multi.s+', 'kprobe', 'uretprobe.multi.s/<binary>:<pattern>', { attachType: 'trace_uprobe_multi', since: '1.3' }),
  probe('kprobe.session+', 'kprobe', 'kprobe.session/<pattern>', { attachType: 'trace_kprobe_session', since: '1.5' }),
  probe('uprobe.session+', 'kprobe', 'uprobe.session/<binary>:<pattern>', { attachType: 'trace_uprobe_session', since: '1.6' }),
  probe('uprobe.session.s+', 'kprobe', 'uprobe.session.s/<binary>:<pattern>', { attachType: 'trace_uprobe_session', since: '1.6' }),
  probe('ksyscall+', 'kprobe', 'ksyscall/<syscall>'),
  probe('kretsyscall+', 'kprobe', 'kretsyscall/<syscall>'),
  probe('usdt+', 'kprobe', 'usdt/<binary>:<provider>:<name>'),
  probe('usdt.s+', 'kprobe', 'usdt.s/<binary>:<provider>:<name>', { since: '1.3' }),
  def('tc/ingress', 'sched_cls', 'tcx_ingress', { since: '1.3' }),
  def('tc/egress', 'sched_cls', 'tcx_egress', { since: '1.3' }),
  def('tcx/ingress', 'sched_cls', 'tcx_ingress', { since: '1.3' }),
  def('tcx/egress', 'sched_cls', 'tcx_egress', { since: '1.3' }),
  def('tc', 'sched_cls'),
  def('classifier', 'sched_cls'),
  def('action', 'sched_act'),
  def('netkit/primary', 'sched_cls', 'netkit_primary', { since: '1.3' }),
  def('netkit/peer', 'sched_cls', 'netkit_peer', { since: '1.3' }),
  probe('tracepoint+', 'tracepoint', 'tracepoint/<category>/<name>'),
  probe('tp+', 'tracepoint', 'tp/<category>/<name>'),
  probe('raw_tracepoint+', 'raw_tracepoint', 'raw_tracepoint/<tracepoint>'),
  probe('raw_tp+', 'raw_tracepoint', 'raw_tp/<tracepoint>'),
  probe('raw_tracepoint.w+', 'raw_tracepoint_writable', 'raw_tracepoint.w/<tracepoint>'),
  probe('raw_tp.w+', 'raw_tracepoint_writable', 'raw_tp.w/<tracepoint>'),
  traced('tp_btf+', 'tracing', 'trace_raw_tp', 'tp_btf/<tracepoint>'),
  traced('fentry+', 'tracing', 'trace_fentry', 'fentry/<function>'),
  traced('fmod_ret+', 'tracing', 'modify_return', 'fmod_ret/<function>'),
  traced('fexit+', 'tracing', 'trace_fexit', 'fexit/<function>'),
  traced('fentry.s+', 'tracing', 'trace_fentry', 'fentry.s/<function>'),
  traced('fmod_ret.s+', 'tracing', 'modify_return', 'fmod_ret.s/<function>'),
  traced('fexit.s+', 'tracing', 'trace_fexit', 'fexit.s/<function>'),
  def('freplace+', 'ext', undefined, { template: 'freplace/<function>' }),
  traced('lsm+', 'lsm', 'lsm_mac', 'lsm/<hook>'),
  traced('lsm.s+', 'lsm', 'lsm_mac', 'lsm.s/<hook>'),
  def('lsm_cgroup+', 'lsm', 'lsm_cgroup', { template: 'lsm_cgroup/<hook>' }),
  traced('iter+', 'tracing', 'trace_iter', 'iter/<iterator>'),
  traced('iter.s+', 'tracing', 'trace_iter', 'iter.s/<iterator>'),
  def('syscall', 'syscall'),
  def('xdp.frags/devmap', 'xdp', 'xdp_devmap'),
  def('xdp/devmap', 'xdp', 'xdp_devmap'),
  def('xdp.frags/cpumap', 'xdp', 'xdp_cpumap'),
  def('xdp/cpumap', 'xdp', 'xdp_cpumap'),
  def('xdp.frags', 'xdp', 'xdp'),
  def('xdp', 'xdp', 'xdp'),
  def('perf_event', 'perf_event'),
  def('lwt_in', 'lwt_in'),
  def('lwt_out', 'lwt_out'),
  def('lwt_xmit', 'lwt_xmit'),
  def('lwt_seg6local', 'lwt_seg6local'),
  def('sockops', 'sock_ops', 'cgroup_sock_ops'),
  def('sk_skb/stream_parser', 'sk_skb', 'sk_skb_stream_parser'),
  def('sk_skb/stream_verdict', 'sk_skb', 'sk_skb_stream_verdict'),
  def('sk_skb', 'sk_skb'),
  def('sk_msg', 'sk_msg', 'sk_msg_verdict'),
  def('lirc_mode2', 'lirc_mode2', 'lirc_mode2'),
  def('flow_dissector', 'flow_dissector', 'flow_dissector'),
  def('cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress'),
  def('cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress'),
  def('cgroup/skb', 'cgroup_skb'),
  def('cgroup/sock_create', 'cgroup_sock', 'cgroup_inet_sock_create'),
  def('cgroup/sock_release', 'cgroup_sock', 'cgroup_inet_sock_release'),
  def('cgroup/sock', 'cgroup_sock', 'cgroup_inet_sock_create'),
  def('cgroup/post_bind4', 'cgroup_sock', 'cgroup_inet4_post_bind'),
  def('cgroup/post_bind6', 'cgroup_sock', 'cgroup_inet6_post_bind'),
  def('cgroup/bind4', 'cgroup_sock_addr', 'cgroup_inet4_bind'),
  def('cgroup/bind6', 'cgroup_sock_addr', 'cgroup_inet6_bind'),
  def('cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect'),
  def('cgroup/connect6', 'cgroup_sock_addr', 'cgroup_inet6_connect'),
  def('cgroup/connect_unix', 'cgroup_sock_addr', 'cgroup_unix_connect', { since: '1.3' }),
  def('cgroup/sendmsg4', 'cgroup_sock_addr', 'cgroup_udp4_sendmsg'),
  def('cgroup/sendmsg6', 'cgroup_sock_addr', 'cgroup_udp6_sendmsg'),
  def('cgroup/sendmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_sendmsg', { since: '1.3' }),
  def('cgroup/recvmsg4', 'cgroup_sock_addr', 'cgroup_udp4_recvmsg'),
  def('cgroup/recvmsg6', 'cgroup_sock_addr', 'cgroup_udp6_recvmsg'),
  def('cgroup/recvmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_recvmsg', { since: '1.3' }),
  def('cgroup/getpeername4', 'cgroup_sock_addr', 'cgroup_inet4_getpeername'),
  def('cgroup/getpeername6', 'cgroup_sock_addr', 'cgroup_inet6_getpeername'),
  def('cgroup/getpeername_unix', 'cgroup_sock_addr', 'cgroup_unix_getpeername', { since: '1.3' }),
  def('cgroup/getsockname4', 'cgroup_sock_addr', 'cgroup_inet4_getsockname'),
  def('cgroup/getsockname6', 'cgroup_sock_addr', 'cgroup_inet6_getsockname'),
  def('cgroup/getsockname_unix', 'cgroup_sock_addr', 'cgroup_unix_getsockname', { since: '1.3' }),
  def('cgroup/sysctl', 'cgroup_sysctl', 'cgroup_sysctl'),
  def('cgroup/getsockopt', 'cgroup_sockopt', 'cgroup_getsockopt'),
  def('cgroup/setsockopt', 'cgroup_sockopt', 'cgroup_setsockopt'),
  def('cgroup/dev', 'cgroup_device', 'cgroup_device'),
  def('struct_ops+', 'struct_ops', undefined, { template: 'struct_ops/<member>' }),
  def('struct_ops.s+', 'struct_ops', undefined, { template: 'struct_ops.s/<member>', since: '1.2' }),
  def('sk_lookup', 'sk_lookup', 'sk_lookup'),
  def('netfilter', 'netfilter', 'netfilter', { since: '1.3' }),
];

/** libbpf's sec_def_matches(): exact, or for 'name+' also 'name/<anything>'. */
function matches(pattern: string, name: string): boolean {
  if (!pattern.endsWith('+')) return name === pattern;
  const base = pattern.slice(0, -1);
  return name === base || name.startsWith(`${base}/`);
}

/** How libbpf LIBBPF_VERSION (or, failing that, a later libbpf) reads SEC(name); undefined when no libbpf knows it. */
export function matchSection(name: string): SectionMatch | undefined {
  const known = SECTION_DEFS.find((d) => d.since === undefined && matches(d.pattern, name));
  const found = known ?? SECTION_DEFS.find((d) => matches(d.pattern, name));
  if (found === undefined) return undefined;
  const hasTarget = found.pattern.endsWith('+') && name.length > found.pattern.length;
  const auto = found.autoAttach === 'always' || (found.autoAttach === 'with-target' && hasTarget);
  return {
    progType: found.progType,
    ...(found.attachType ? { expectedAttachType: found.attachType } : {}),
    known: known !== undefined,
    ...(known === undefined && found.since ? { knownSince: found.since } : {}),
    attachable: auto ? 'auto' : 'manual',
  };
}

/** Every SEC name libbpf knows (1.1 and later), for completion in an editor. */
export function listSectionNames(): SectionName[] {
  return SECTION_DEFS.map((d) => ({
    name: d.pattern.replace(/\+$/, ''),
    progType: d.progType,
    ...(d.since ? { knownSince: d.since } : {}),
    ...(d.template ? { template: d.template } : {}),
  }));
}
