// SPDX-License-Identifier: GPL-2.0
/* An XDP gateway's first job: count packets per destination cluster (by destination /24), with every
 * packet access checked against data_end. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} packets_by_subnet SEC(".maps");

SEC("xdp")
int count_by_subnet(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	__u32 subnet = ip->daddr & bpf_htonl(0xffffff00);
	__u64 one = 1;
	__u64 *count = bpf_map_lookup_elem(&packets_by_subnet, &subnet);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&packets_by_subnet, &subnet, &one, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
