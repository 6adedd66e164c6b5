import type { Btf, BtfMember } from '@ebpf-studio/libbpf-ts';

/** The context struct each program type gets (the type of its single argument). */
const CONTEXT_STRUCTS: Readonly<Record<string, string>> = {
  xdp: 'xdp_md',
  sched_cls: '__sk_buff',
  sched_act: '__sk_buff',
  socket_filter: '__sk_buff',
  cgroup_skb: '__sk_buff',
  sk_skb: '__sk_buff',
  flow_dissector: '__sk_buff',
  lwt_in: '__sk_buff',
  lwt_out: '__sk_buff',
  lwt_xmit: '__sk_buff',
  lwt_seg6local: '__sk_buff',
  cgroup_sock_addr: 'bpf_sock_addr',
  cgroup_sock: 'bpf_sock',
  sock_ops: 'bpf_sock_ops',
  sk_msg: 'sk_msg_md',
  sk_lookup: 'bpf_sk_lookup',
  sk_reuseport: 'sk_reuseport_md',
  cgroup_sysctl: 'bpf_sysctl',
  cgroup_sockopt: 'bpf_sockopt',
  cgroup_device: 'bpf_cgroup_dev_ctx',
};

export interface ContextField {
  struct: string;
  field: string;
  /** Byte offset and size of the field. */
  offset: number;
  size: number;
}

/**
 * The field of the program type's context struct at byte `offset`, from the object's BTF (a program that
 * takes the context has its struct there). Anonymous unions and structs are looked into: the first named
 * member at the offset wins (`__bpf_md_ptr(struct bpf_sock *, sk)` is `sk`).
 */
export function contextField(btf: Btf | undefined, progType: string | undefined, offset: number): ContextField | undefined {
  const struct = progType !== undefined ? CONTEXT_STRUCTS[progType] : undefined;
  const type = struct !== undefined ? btf?.findByName(struct, 'STRUCT') : undefined;
  if (!btf || !struct || type?.kind !== 'STRUCT') return undefined;
  const found = memberAt(btf, type.members, 0, offset);
  return found && { struct, ...found };
}

function memberAt(btf: Btf, members: readonly BtfMember[], base: number, offset: number): { field: string; offset: number; size: number } | undefined {
  for (const m of members) {
    const start = base + m.bitOffset / 8;
    const size = btf.sizeOf(m.type);
    if (size === undefined || offset < start || offset >= start + size) continue;
    if (m.name) return { field: m.name, offset: start, size };
    const inner = btf.skipQualifiers(m.type);
    if (inner && (inner.kind === 'STRUCT' || inner.kind === 'UNION')) {
      const found = memberAt(btf, inner.members, start, offset);
      if (found) return found;
    }
  }
  return undefined;
}

/** "off=24 is user_port (4 bytes) of struct bpf_sock_addr, accessed 2 bytes wide", for a context access error. */
export function describeContextAccess(btf: Btf | undefined, progType: string | undefined, message: string): string | undefined {
  const m = /invalid bpf_context access off=(\d+) size=(\d+)/.exec(message);
  if (!m) return undefined;
  const offset = Number(m[1]);
  const size = Number(m[2]);
  const field = contextField(btf, progType, offset);
  if (!field) return undefined;
  const inside = field.offset === offset ? '' : ` (${offset - field.offset} bytes into it)`;
  const width = size === field.size && field.offset === offset ? '' : `, accessed ${size} bytes wide${inside}`;
  return `off=${offset} is ${field.field} (${field.size} bytes) of struct ${field.struct}${width}`;
}
