import { matchSection } from '@ebpf-studio/libbpf-ts';
import type { AttachTarget } from '../session-protocol';

/** A mistake in what the user asked to attach, with what to write instead. */
export class AttachTargetError extends Error {}

const IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;
const SYMBOL = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const CGROUP_PATH = /^[A-Za-z0-9_./@:+-]+$/;

function iface(name: string): string {
  if (!IFNAME.test(name)) throw new AttachTargetError(`'${name}' is not an interface name (letters, digits, _ . : @ -, at most 15)`);
  return name;
}

/**
 * Where a program attaches, from its SEC name and the user's `--to` (an interface, a cgroup path, a
 * sockhash map, a kernel symbol). What the section already says (kprobe/<fn>, tracepoint/<cat>/<name>)
 * needs no `--to`. Names are checked here so nothing odd ever reaches the node.
 */
export function resolveAttachTarget(section: string, to: string | undefined, options: { xdpMode?: 'generic' | 'native' } = {}): AttachTarget {
  const match = matchSection(section);
  if (!match) throw new AttachTargetError(`SEC("${section}") is not a section libbpf knows, so the program type (and where it attaches) is unknown`);
  const need = (what: string): string => {
    if (to === undefined || to === '') throw new AttachTargetError(`a ${match.progType} program needs --to <${what}>`);
    return to;
  };
  switch (match.progType) {
    case 'xdp':
      return { kind: 'xdp', iface: iface(need('interface')), mode: options.xdpMode ?? 'generic' };
    case 'sched_cls':
    case 'sched_act': {
      const [name, dir] = need('interface[:ingress|:egress]').split(':');
      const fromSection = /egress/.test(section) ? 'egress' : /ingress/.test(section) ? 'ingress' : undefined;
      const direction = dir ?? fromSection ?? 'ingress';
      if (direction !== 'ingress' && direction !== 'egress') throw new AttachTargetError(`tc direction '${direction}' must be ingress or egress`);
      return { kind: 'tc', iface: iface(name!), direction };
    }
    case 'cgroup_sock_addr':
    case 'cgroup_sock':
    case 'cgroup_skb':
    case 'cgroup_sockopt':
    case 'sock_ops':
    case 'cgroup_sysctl':
    case 'cgroup_device': {
      const path = need('cgroup path (relative to the cgroup2 mount, or absolute)');
      if (!CGROUP_PATH.test(path) || path.split('/').includes('..')) throw new AttachTargetError(`'${path}' is not a cgroup path we accept (no '..', no spaces or shell characters)`);
      if (!match.expectedAttachType) throw new AttachTargetError(`SEC("${section}") does not say which cgroup hook it is for: use e.g. SEC("cgroup/connect4")`);
      return { kind: 'cgroup', path, attachType: match.expectedAttachType };
    }
    case 'sk_msg': {
      const map = need('sockhash or sockmap name in the same object');
      if (!SYMBOL.test(map)) throw new AttachTargetError(`'${map}' is not a map name`);
      return { kind: 'sk_msg', map };
    }
    case 'kprobe': {
      const m = /^k(ret)?probe\/(.+)$/.exec(section);
      const symbol = to ?? m?.[2];
      if (!symbol || !SYMBOL.test(symbol)) throw new AttachTargetError('a kprobe needs a kernel function: SEC("kprobe/<function>") or --to <function>');
      return { kind: 'kprobe', symbol, retprobe: m?.[1] === 'ret' };
    }
    case 'tracepoint': {
      const spec = to ?? /^(?:tracepoint|tp)\/(.+)$/.exec(section)?.[1];
      const [category, name, extra] = (spec ?? '').split('/');
      if (!category || !name || extra !== undefined || !SYMBOL.test(category) || !SYMBOL.test(name)) {
        throw new AttachTargetError('a tracepoint needs <category>/<name>: SEC("tracepoint/sched/sched_switch") or --to sched/sched_switch');
      }
      return { kind: 'tracepoint', category, name };
    }
    default:
      throw new AttachTargetError(`attaching ${match.progType} programs is not supported yet (xdp, tc, cgroup hooks, sockops, sk_msg, kprobe and tracepoint are)`);
  }
}
