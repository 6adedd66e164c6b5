import { openSync } from 'node:fs';
import { BpfError } from '../../errors';
import { ERRNO, closeFd, errnoOf, kernelError } from '../bpf-syscall';
import { CGROUP_ATTACH_TYPES, type CgroupHook } from './attach-types';
import { linkAttachment, linkCreate, type Attachment, type ProgramRef } from './attachment';

/**
 * Attaches a cgroup program (sock_addr connect4/6, sendmsg4/6, recvmsg4/6, getpeername4/6 ..., sock_ops,
 * cgroup_skb ingress/egress, get/setsockopt, sysctl) to a cgroup v2 directory with a bpf_link. Several
 * links may sit on one cgroup (they run in attach order). Without `hook`, the program's expected attach
 * type (which libbpf derives from its SEC name) is used.
 */
export function attachCgroup(prog: ProgramRef & { expectedAttachType?: number }, cgroupPath: string, hook?: CgroupHook): Attachment {
  const attachType = hook === undefined ? prog.expectedAttachType : CGROUP_ATTACH_TYPES[hook];
  if (attachType === undefined) {
    throw new BpfError(`no cgroup hook given for program '${prog.name}'`, `name one: ${Object.keys(CGROUP_ATTACH_TYPES).join(', ')}`);
  }
  const name = hook ?? Object.entries(CGROUP_ATTACH_TYPES).find(([, v]) => v === attachType)?.[0] ?? `attach type ${attachType}`;
  const target = `cgroup ${cgroupPath} ${name}`;
  let cgroupFd: number;
  try {
    cgroupFd = openSync(cgroupPath, 'r');
  } catch (err) {
    throw new BpfError(`cannot open cgroup ${cgroupPath}: ${(err as Error).message}`, 'pass a cgroup v2 directory, e.g. /sys/fs/cgroup/unified/NAME');
  }
  try {
    const fd = linkCreate(prog, cgroupFd, attachType);
    if (fd < 0) {
      const errno = errnoOf(fd);
      throw kernelError(`attaching program '${prog.name}' to ${target}`, errno, errno === ERRNO.EINVAL ? `the program's type must match the hook '${name}' (e.g. SEC("cgroup/connect4") for connect4), and the path must be a cgroup v2 directory` : undefined);
    }
    return linkAttachment('cgroup', target, fd);
  } finally {
    closeFd(cgroupFd);
  }
}
