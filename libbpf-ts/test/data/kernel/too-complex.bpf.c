// SPDX-License-Identifier: GPL-2.0
/* A loop bounded only by a map value: the verifier walks it until it gives up after 1M insns. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} limit SEC(".maps");

SEC("xdp")
int spin(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&limit, &zero);
	if (!n)
		return XDP_PASS;
	__u64 sum = 0;
	for (__u64 i = 0; i < *n; i++)
		sum += i ^ ctx->rx_queue_index;
	return sum & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
