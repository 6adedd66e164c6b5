// SPDX-License-Identifier: GPL-2.0
/* Reads a stack slot it never wrote: root (CAP_PERFMON) may, a CAP_BPF+CAP_NET_ADMIN loader may not. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u64);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int uninit(struct xdp_md *ctx)
{
	__u64 key;
	__u64 one = 1;
	if (ctx->rx_queue_index)
		key = 1;
	bpf_map_update_elem(&seen, &key, &one, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
