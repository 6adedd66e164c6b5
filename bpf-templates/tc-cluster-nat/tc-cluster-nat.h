/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Map layouts of tc-cluster-nat, shared by the BPF programs and whatever fills their maps.
 * Addresses and ports are in network byte order. */
#ifndef TC_CLUSTER_NAT_H
#define TC_CLUSTER_NAT_H

#define MAX_SERVICES		256
#define MAX_BACKENDS		1024
#define MAX_CONNECTIONS		65536
/* Room for the Maglev rings: rings × ring_size entries (32 rings of the default 4099). */
#define NAT_RING_ENTRIES	(32 * 4099)
/* How many source ports SNAT tries for a new connection before it gives up. */
#define SNAT_PORT_TRIES		8
/* murmur3 seed of flow_hash(); the engine's flowHash() uses the same. */
#define FLOW_HASH_SEED		0x0c1a55e7

struct service_key {
	__be32 vip;
	__be16 port;
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;
};

struct service {
	__u32 ring;		/* the service's ring in nat_rings: [ring * ring_size, (ring + 1) * ring_size) */
};

#define BACKEND_F_UP		1

struct nat_backend {
	__be32 addr;
	__be16 port;
	__u8 flags;		/* BACKEND_F_UP: takes new connections */
	__u8 pad;
};

enum ct_dir {
	CT_FORWARD,		/* client → VIP, as nat_forward sees it */
	CT_REPLY,		/* backend → client (or the SNAT address), as nat_reply sees it */
};

/* A packet's tuple as a program sees it; also the input of flow_hash() (four 32-bit words). */
struct ct_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir;		/* enum ct_dir */
	__u8 pad[2];
};

/* The addresses and ports a packet of the connection leaves with. */
struct ct_nat {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
};

enum nat_stat {
	NAT_NEW_CONNECTION,	/* a connection to a VIP got a backend (two conntrack entries) */
	NAT_NO_BACKEND,		/* dropped: the ring slot is empty or its backend is down */
	NAT_NO_PORT,		/* dropped: SNAT found no free source port in SNAT_PORT_TRIES tries */
	NAT_STAT_MAX,
};

#endif /* TC_CLUSTER_NAT_H */
