import { ERRNO, errnoOf, kernelError } from '../bpf-syscall';
import { ATTACH_TYPE } from './attach-types';
import { interfaceTarget, linkAttachment, linkCreate, type Attachment, type ProgramRef } from './attachment';
import { inNetns } from './netns';

const XDP_FLAGS = { generic: 1 << 1, native: 1 << 2 } as const;

export interface XdpOptions {
  /** 'generic' works on every interface (skb path, slower); 'native' needs driver support (veth has it). */
  mode: 'generic' | 'native';
  /** The network namespace the ifindex belongs to (/run/netns/NAME); default: this process's. */
  netns?: string;
}

/** Attaches an XDP program with a bpf_link (detached when the link's last fd closes or the process dies). */
export function attachXdp(prog: ProgramRef, ifindex: number, options: XdpOptions): Attachment {
  const target = `${interfaceTarget(ifindex, options.netns)} (${options.mode})`;
  const fd = inNetns(options.netns, () => linkCreate(prog, ifindex, ATTACH_TYPE.xdp, XDP_FLAGS[options.mode]));
  if (fd < 0) {
    const errno = errnoOf(fd);
    throw kernelError(`attaching XDP program '${prog.name}' to ${target}`, errno, xdpFix(errno, options.mode));
  }
  return linkAttachment('xdp', target, fd);
}

function xdpFix(errno: number, mode: XdpOptions['mode']): string | undefined {
  switch (errno) {
    case ERRNO.EEXIST:
    case ERRNO.EBUSY:
      return 'another XDP program is attached to this interface: detach it first (bpftool net; `ip link set dev IF xdp off` for a legacy one)';
    case ERRNO.EOPNOTSUPP:
      return mode === 'native' ? "the driver has no native XDP: use mode 'generic'" : 'this interface does not take XDP programs';
    case ERRNO.ENODEV:
    case ERRNO.EINVAL:
      return 'the ifindex must exist in that network namespace (pass `netns` for an interface inside one), the program must be SEC("xdp"), and XDP links need Linux ≥ 5.9';
    default:
      return undefined;
  }
}
