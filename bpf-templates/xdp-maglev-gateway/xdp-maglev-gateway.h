/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Map layouts of xdp-maglev-gateway, shared by the BPF program and whatever fills its maps.
 * Addresses and ports are in network byte order; an IPv4 address sits in addr[0], the rest zero. */
#ifndef XDP_MAGLEV_GATEWAY_H
#define XDP_MAGLEV_GATEWAY_H

#define MAX_VIPS		64
#define MAX_BACKENDS		1024
#define MAX_FLOWS		65536
/* Room for the Maglev rings: rings × ring_size entries. 16 rings of 65537 let 8 VIPs swap tables
 * atomically (fill a spare ring, then point the VIP at it). */
#define MAGLEV_RING_ENTRIES	(16 * 65537)
#define MAGLEV_NO_BACKEND	0xffffffff
/* murmur3 seed of flow_hash(); buildMaglevTable's flowHash() uses the same. */
#define FLOW_HASH_SEED		0x0c1a55e7

struct vip_key {
	__be32 addr[4];
	__be16 port;		/* 0: every port of the address */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;		/* AF_INET or AF_INET6 */
};

/* vip_table[index]: the VIP itself (established flows check they still belong to it) and its ring. */
struct vip_meta {
	struct vip_key vip;
	__u32 ring;		/* the VIP's ring in maglev_rings: entries [ring * ring_size, (ring + 1) * ring_size) */
};

/* One direction of a connection; also the input of flow_hash() (ten 32-bit words). */
struct flow_key {
	__be32 src[4];
	__be32 dst[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct flow_state {
	__u32 backend;		/* index in backends */
	__u32 hash;		/* flow_hash() of the key, kept so established packets need not hash again */
	__u32 vip;		/* index in vip_table */
};

#define BACKEND_F_UP		1

/* A remote cluster's gateway: where the encapsulated packet goes, and the next hop towards it. */
struct backend {
	__be32 addr[4];
	__u8 mac[6];		/* next-hop MAC (the gateway's, or the router's on the way) */
	__u8 family;		/* AF_INET: IPIP / 6in4 outer header; AF_INET6: 4in6 / IP6IP6 */
	__u8 flags;		/* BACKEND_F_UP: takes new flows and keeps its established ones */
};

struct backend_stats {
	__u64 packets;
	__u64 bytes;		/* inner IP bytes */
};

enum gateway_stat {
	STAT_NEW_FLOW,		/* a flow was given a backend from the ring */
	STAT_REPINNED,		/* an established flow's backend was down (or its VIP replaced): it got a new one */
	STAT_NO_BACKEND,	/* dropped: the ring slot is empty or its backend is down */
	STAT_FRAGMENT,		/* passed: an IPv4 fragment carries no ports to hash */
	STAT_TOO_BIG,		/* dropped: the encapsulated packet would exceed mtu */
	STAT_MAX,
};

#endif /* XDP_MAGLEV_GATEWAY_H */
