// SPDX-License-Identifier: GPL-2.0
/* Three programs; the middle one dereferences a map value without a NULL check. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

const volatile __u32 verdict = XDP_PASS;

SEC("xdp")
int first(struct xdp_md *ctx)
{
	return verdict;
}

SEC("xdp")
int second(struct xdp_md *ctx)
{
	__u32 key = ctx->rx_queue_index;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);
	return *v ? XDP_PASS : XDP_DROP;
}

SEC("tc")
int third(struct __sk_buff *skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
