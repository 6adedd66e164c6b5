/** enum bpf_map_type of the kernel's UAPI (linux/bpf.h): the number in "cannot pass map_type N into func". */
const MAP_TYPES = [
  'UNSPEC', 'HASH', 'ARRAY', 'PROG_ARRAY', 'PERF_EVENT_ARRAY', 'PERCPU_HASH', 'PERCPU_ARRAY', 'STACK_TRACE', 'CGROUP_ARRAY',
  'LRU_HASH', 'LRU_PERCPU_HASH', 'LPM_TRIE', 'ARRAY_OF_MAPS', 'HASH_OF_MAPS', 'DEVMAP', 'SOCKMAP', 'CPUMAP', 'XSKMAP', 'SOCKHASH',
  'CGROUP_STORAGE', 'REUSEPORT_SOCKARRAY', 'PERCPU_CGROUP_STORAGE', 'QUEUE', 'STACK', 'SK_STORAGE', 'DEVMAP_HASH', 'STRUCT_OPS',
  'RINGBUF', 'INODE_STORAGE', 'TASK_STORAGE', 'BLOOM_FILTER', 'USER_RINGBUF', 'CGRP_STORAGE', 'ARENA',
] as const;

/** How programs use the map types that the generic element helpers refuse. */
const USE: Readonly<Record<string, string>> = {
  PROG_ARRAY: 'programs jump through it with bpf_tail_call(); user space sets its entries',
  PERF_EVENT_ARRAY: 'programs write to it with bpf_perf_event_output(); user space reads it',
  RINGBUF: 'programs write to it with bpf_ringbuf_output() or bpf_ringbuf_reserve() and bpf_ringbuf_submit(); it has no elements to look up',
  USER_RINGBUF: 'programs read it with bpf_user_ringbuf_drain()',
  STACK_TRACE: 'programs fill it with bpf_get_stackid()',
  CGROUP_ARRAY: 'programs test it with bpf_skb_under_cgroup() or bpf_current_task_under_cgroup()',
  DEVMAP: 'programs redirect through it with bpf_redirect_map(); user space sets its entries',
  DEVMAP_HASH: 'programs redirect through it with bpf_redirect_map(); user space sets its entries',
  CPUMAP: 'programs redirect through it with bpf_redirect_map(); user space sets its entries',
  XSKMAP: 'programs redirect through it with bpf_redirect_map(); user space sets its entries',
  SOCKMAP: 'sockops programs add sockets with bpf_sock_map_update(); sk_msg and sk_skb programs redirect with bpf_msg_redirect_map() or bpf_sk_redirect_map()',
  SOCKHASH: 'sockops programs add sockets with bpf_sock_hash_update(); sk_msg and sk_skb programs redirect with bpf_msg_redirect_hash() or bpf_sk_redirect_hash()',
  QUEUE: 'programs use bpf_map_push_elem(), bpf_map_pop_elem() and bpf_map_peek_elem()',
  STACK: 'programs use bpf_map_push_elem(), bpf_map_pop_elem() and bpf_map_peek_elem()',
  BLOOM_FILTER: 'programs add with bpf_map_push_elem() and test with bpf_map_peek_elem()',
  SK_STORAGE: 'programs use bpf_sk_storage_get() and bpf_sk_storage_delete()',
  INODE_STORAGE: 'programs use bpf_inode_storage_get() and bpf_inode_storage_delete()',
  TASK_STORAGE: 'programs use bpf_task_storage_get() and bpf_task_storage_delete()',
  CGRP_STORAGE: 'programs use bpf_cgrp_storage_get() and bpf_cgrp_storage_delete()',
  CGROUP_STORAGE: 'programs use bpf_get_local_storage()',
  PERCPU_CGROUP_STORAGE: 'programs use bpf_get_local_storage()',
};

/** "a BPF_MAP_TYPE_RINGBUF: programs write to it with ...", for map type number `type`. */
export function mapTypeUse(type: number): string | undefined {
  const name = MAP_TYPES[type];
  if (!name) return undefined;
  const use = USE[name];
  return use ? `a BPF_MAP_TYPE_${name}: ${use}` : `a BPF_MAP_TYPE_${name}`;
}
