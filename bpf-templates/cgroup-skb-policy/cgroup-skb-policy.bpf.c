// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgroup-skb-policy: L3/L4 allow/deny for the sockets of a cgroup, by the peer's CIDR (an LPM trie),
 * protocol and destination port, with packet and byte counters per rule.
 *
 * A packet is judged by the first level with a matching rule, longest prefix first within a level:
 *   1. rules for its protocol and destination port (TCP and UDP, not for IPv4 fragments after the first),
 *   2. rules for its protocol, every port,
 *   3. rules for every protocol.
 * No match: ingress_default / egress_default. The peer is the source on ingress and the destination on
 * egress; IPv4 is looked up as ::ffff:a.b.c.d, so one trie holds both families. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cgroup-skb-policy.h"

#define IP_OFFSET	0x1fff
#define KEY_FIXED_BITS	32

/* The verdict (enum action) for packets no rule matches. */
const volatile __u8 ingress_default = ACTION_ALLOW;
const volatile __u8 egress_default = ACTION_ALLOW;

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, MAX_RULES);
	__type(key, struct rule_key);
	__type(value, struct rule);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_RULES);
	__type(key, __u32);
	__type(value, struct rule_stats);
} rule_stats SEC(".maps");

/* Packets no rule matched, by enum direction. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct rule_stats);
} default_stats SEC(".maps");

/* Fills the key's proto, port and address; false for packets that are neither IPv4 nor IPv6. */
static __always_inline bool parse(struct __sk_buff *skb, struct rule_key *key)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__be16 *ports = NULL;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data;

		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			return false;
		key->proto = ip->protocol;
		key->addr[10] = 0xff;
		key->addr[11] = 0xff;
		__builtin_memcpy(&key->addr[12], key->dir == DIR_INGRESS ? &ip->saddr : &ip->daddr, 4);
		if (!(ip->frag_off & bpf_htons(IP_OFFSET)))
			ports = (void *)ip + ip->ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data;

		if ((void *)(ip6 + 1) > data_end)
			return false;
		key->proto = ip6->nexthdr;
		__builtin_memcpy(key->addr, key->dir == DIR_INGRESS ? &ip6->saddr : &ip6->daddr, 16);
		ports = (void *)(ip6 + 1);
	} else {
		return false;
	}
	if (ports && (key->proto == IPPROTO_TCP || key->proto == IPPROTO_UDP) && (void *)(ports + 2) <= data_end)
		key->port = ports[1];
	return true;
}

static __always_inline struct rule *match(struct rule_key *key)
{
	struct rule *rule;

	if (key->port) {
		rule = bpf_map_lookup_elem(&rules, key);
		if (rule)
			return rule;
		key->port = 0;
	}
	rule = bpf_map_lookup_elem(&rules, key);
	if (rule)
		return rule;
	key->proto = 0;
	return bpf_map_lookup_elem(&rules, key);
}

static __always_inline void account(void *stats_map, __u32 index, __u32 len)
{
	struct rule_stats *stats = bpf_map_lookup_elem(stats_map, &index);

	if (stats) {
		stats->packets += 1;
		stats->bytes += len;
	}
}

static __always_inline int judge(struct __sk_buff *skb, __u8 dir, __u8 fallback)
{
	struct rule_key key = { .prefixlen = KEY_FIXED_BITS + 128, .dir = dir };
	struct rule *rule;

	if (!parse(skb, &key))
		return 1;
	rule = match(&key);
	if (!rule) {
		account(&default_stats, dir, skb->len);
		return fallback == ACTION_ALLOW;
	}
	account(&rule_stats, rule->id, skb->len);
	return rule->action == ACTION_ALLOW;
}

SEC("cgroup_skb/ingress")
int policy_ingress(struct __sk_buff *skb)
{
	return judge(skb, DIR_INGRESS, ingress_default);
}

SEC("cgroup_skb/egress")
int policy_egress(struct __sk_buff *skb)
{
	return judge(skb, DIR_EGRESS, egress_default);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
