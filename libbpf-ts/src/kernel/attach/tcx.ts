import { NotSupportedError } from '../../errors';
import { ERRNO, errnoOf, kernelError } from '../bpf-syscall';
import { ATTACH_TYPE } from './attach-types';
import { interfaceTarget, linkAttachment, linkCreate, type Attachment, type ProgramRef } from './attachment';
import { inNetns } from './netns';

export type Direction = 'ingress' | 'egress';

/**
 * Attaches a sched_cls program (write `SEC("tc")`: libbpf 1.1 does not know `tcx/ingress`) with a tcx
 * bpf_link — raw bpf_link_create with BPF_TCX_INGRESS/EGRESS (46/47), which libbpf 1.1 has no API for.
 * Appended after the programs already there. Needs Linux ≥ 6.6; attachTcClsact is the fallback.
 */
export function attachTcx(prog: ProgramRef, ifindex: number, direction: Direction, options: { netns?: string } = {}): Attachment {
  const target = `${interfaceTarget(ifindex, options.netns)} tcx/${direction}`;
  const type = direction === 'ingress' ? ATTACH_TYPE.tcxIngress : ATTACH_TYPE.tcxEgress;
  const fd = inNetns(options.netns, () => linkCreate(prog, ifindex, type));
  if (fd < 0) {
    const errno = errnoOf(fd);
    if (errno === ERRNO.EINVAL || errno === ERRNO.EOPNOTSUPP) {
      throw new NotSupportedError(`tcx on ${target} (${errno === ERRNO.EINVAL ? 'EINVAL' : 'EOPNOTSUPP'})`, 'tcx needs Linux ≥ 6.6 and a sched_cls program (SEC("tc")): on older kernels use the clsact fallback (attachTcClsact)');
    }
    throw kernelError(`attaching tcx program '${prog.name}' to ${target}`, errno, errno === ERRNO.ENODEV ? 'no interface with this ifindex there: pass `netns` for an interface inside a namespace' : undefined);
  }
  return linkAttachment('tcx', target, fd);
}
