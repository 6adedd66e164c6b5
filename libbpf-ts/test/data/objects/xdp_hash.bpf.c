// SPDX-License-Identifier: GPL-2.0
/* Two XDP programs in one section sharing a hash map keyed by a struct. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, __u64);
} flows SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	struct flow_key key = {};
	__u64 one = 1;
	__u64 *count;

	key.proto = ctx->ingress_ifindex & 0xff;
	count = bpf_map_lookup_elem(&flows, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&flows, &key, &one, BPF_ANY);
	return XDP_PASS;
}

SEC("xdp")
int xdp_drop_all(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
