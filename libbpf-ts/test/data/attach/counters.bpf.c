// SPDX-License-Identifier: GPL-2.0
/* Counts UDP packets to one port: at XDP, at tc (tcx or clsact), and per CPU. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { AT_XDP, AT_TC, AT_COUNT };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} cpu_counts SEC(".maps");

const volatile __u16 udp_port = 9;

static __always_inline int is_ours(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return 0;
	struct udphdr *udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return 0;
	return udp->dest == bpf_htons(udp_port);
}

static __always_inline void count(__u32 at)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &at);
	if (v)
		__sync_fetch_and_add(v, 1);
	v = bpf_map_lookup_elem(&cpu_counts, &at);
	if (v)
		*v += 1;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	if (is_ours((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		count(AT_XDP);
	return XDP_PASS;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	if (is_ours((void *)(long)skb->data, (void *)(long)skb->data_end))
		count(AT_TC);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
