import { closeFd, syscalls } from './bpf-syscall';
import { native } from './native';

/** bpf_link types by enum bpf_link_type value (uapi/linux/bpf.h). */
const LINK_TYPES = ['unspec', 'raw_tracepoint', 'tracing', 'cgroup', 'iter', 'netns', 'xdp', 'perf_event', 'kprobe_multi', 'struct_ops', 'netfilter', 'tcx', 'uprobe_multi', 'netkit', 'sockmap'];
const INFO_SIZE = 64;
const UNION_OFFSET = 16;

export interface LinkSummary {
  id: number;
  type: string;
  progId: number;
  /** xdp, tcx, netkit links: the interface. */
  ifindex?: number;
  /** cgroup links: the cgroup's id (its inode number) and the attach type. */
  cgroupId?: string;
  attachType?: number;
}

let getNextId: ((start: number, next: number[]) => number) | undefined;

function summarize(id: number, info: DataView): LinkSummary {
  const type = LINK_TYPES[info.getUint32(0, true)] ?? `type ${info.getUint32(0, true)}`;
  const summary: LinkSummary = { id, type, progId: info.getUint32(8, true) };
  if (type === 'xdp') summary.ifindex = info.getUint32(UNION_OFFSET, true);
  if (type === 'tcx' || type === 'netkit') {
    summary.ifindex = info.getUint32(UNION_OFFSET, true);
    summary.attachType = info.getUint32(UNION_OFFSET + 4, true);
  }
  if (type === 'cgroup') {
    summary.cgroupId = info.getBigUint64(UNION_OFFSET, true).toString();
    summary.attachType = info.getUint32(UNION_OFFSET + 8, true);
  }
  return summary;
}

/** Every bpf_link in the kernel (ours and everyone else's: a CNI's XDP or cgroup programs, say). */
export function listLinks(): LinkSummary[] {
  getNextId ??= native().koffi.load('libbpf.so.1').func('int bpf_link_get_next_id(uint32_t start, _Out_ uint32_t *next)') as (start: number, next: number[]) => number;
  const s = syscalls();
  const links: LinkSummary[] = [];
  for (let id = 0; ; ) {
    const next = [0];
    if (getNextId(id, next) !== 0) break;
    id = next[0]!;
    const fd = s.linkGetFdById(id);
    if (fd < 0) continue;
    try {
      const info = new Uint8Array(INFO_SIZE);
      if (s.objGetInfoByFd(fd, info, [INFO_SIZE]) === 0) links.push(summarize(id, new DataView(info.buffer)));
    } finally {
      closeFd(fd);
    }
  }
  return links;
}
