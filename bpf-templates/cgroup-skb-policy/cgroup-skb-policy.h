/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Map layouts of cgroup-skb-policy, shared by the BPF programs and whatever fills their maps. */
#ifndef CGROUP_SKB_POLICY_H
#define CGROUP_SKB_POLICY_H

#define MAX_RULES		4096

enum direction {
	DIR_INGRESS,
	DIR_EGRESS,
};

enum action {
	ACTION_DENY,
	ACTION_ALLOW,
};

/* An LPM trie key. dir, proto and port are always part of the prefix (32 bits); the rest is the peer's
 * address: IPv6, or IPv4 mapped to ::ffff:a.b.c.d (so an IPv4 /24 has prefixlen 32 + 96 + 24). */
struct rule_key {
	__u32 prefixlen;
	__u8 dir;		/* enum direction */
	__u8 proto;		/* IPPROTO_*; 0: every protocol */
	__be16 port;		/* destination port, network byte order; 0: every port */
	__u8 addr[16];		/* ingress: the source; egress: the destination */
};

struct rule {
	__u32 id;		/* index in rule_stats */
	__u32 action;		/* enum action */
};

struct rule_stats {
	__u64 packets;
	__u64 bytes;
};

#endif /* CGROUP_SKB_POLICY_H */
