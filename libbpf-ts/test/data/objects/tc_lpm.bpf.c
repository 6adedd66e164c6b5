// SPDX-License-Identifier: GPL-2.0
/* tc programs: one in the legacy SEC("tc"), one in SEC("tcx/ingress") that libbpf 1.1 does not know. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 128);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u32);
} allow SEC(".maps");

SEC("tc")
int tc_filter(struct __sk_buff *skb)
{
	struct lpm_key key = { .prefixlen = 32, .addr = skb->remote_ip4 };

	return bpf_map_lookup_elem(&allow, &key) ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("tcx/ingress")
int tcx_pass(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
