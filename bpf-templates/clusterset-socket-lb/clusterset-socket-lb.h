/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * clusterset-socket-lb: the map layouts the program and the policy compiler share.
 *
 * This header is the one source of truth: server/src/policy/socket-lb-layout.ts encodes the same
 * structs for `ebpf-studio apply`, and its test compares both against this object's BTF.
 * Addresses and ports are in network byte order; every other number in host order.
 * An IPv4 address sits in addr[0] with addr[1..3] zero.
 * Include after studio_events.h (struct lb_event starts with its header).
 */
#ifndef CLUSTERSET_SOCKET_LB_H
#define CLUSTERSET_SOCKET_LB_H

#define LB_MAX_CLUSTERS 8
#define LB_MAX_SERVICES 1024
#define LB_MAX_BACKENDS 65536
#define LB_MAX_REVERSE 65536

/* How a service picks among its clusters. */
enum lb_mode {
	/* Split by weight among the healthy clusters (ActiveActive). */
	LB_MODE_WEIGHTED = 0,
	/* The first healthy cluster in slot order (FailOver, and Locality with one slot). */
	LB_MODE_ORDERED = 1,
};

enum lb_cluster_flags {
	/* At least one backend is up and the cluster is not marked down. */
	LB_CLUSTER_HEALTHY = 1,
	/* The backend is the cluster's gateway (FSM style), not its endpoints (flat network). */
	LB_CLUSTER_VIA_GATEWAY = 2,
};

/* Counters of connects/datagrams that found no healthy backend use this cluster id. */
#define LB_CLUSTER_NONE 0

/* A socket address. family is AF_INET or AF_INET6. */
struct lb_endpoint {
	__u32 addr[4];
	__u16 port;
	__u8 family;
	__u8 pad;
};

/* lb_services key: a VIP:port and its protocol (IPPROTO_TCP or IPPROTO_UDP). */
struct lb_service_key {
	__u32 addr[4];
	__u16 port;
	__u8 family;
	__u8 proto;
};

/* One cluster of a service, in failover order for LB_MODE_ORDERED. */
struct lb_cluster_slot {
	__u32 cluster_id;
	__u32 weight;
	/* Healthy backends at lb_backends {service_id, cluster_id, 0 .. backend_count-1}. */
	__u32 backend_count;
	__u32 flags;
};

struct lb_service {
	__u32 service_id;
	__u8 mode;
	__u8 cluster_count;
	__u16 pad;
	struct lb_cluster_slot clusters[LB_MAX_CLUSTERS];
};

struct lb_backend_key {
	__u32 service_id;
	__u32 cluster_id;
	__u32 index;
};

/* lb_reverse key: which VIP a socket reached through this backend (getpeername, recvmsg). */
struct lb_reverse_key {
	__u64 cookie;
	struct lb_endpoint backend;
	__u32 pad;
};

struct lb_stats_key {
	__u32 service_id;
	__u32 cluster_id;
};

/* Per CPU: connects (TCP and connected UDP) and unconnected UDP datagrams steered. */
struct lb_counters {
	__u64 connects;
	__u64 datagrams;
};

enum lb_hook {
	LB_HOOK_CONNECT = 1,
	LB_HOOK_SENDMSG = 2,
};

#define LB_EVENT_STEER 1

/* studio_events record of type LB_EVENT_STEER (only with emit_events set). */
struct lb_event {
	struct studio_event_header hdr;
	__u64 cookie;
	__u32 service_id;
	__u32 cluster_id;
	__u32 hook;
	__u32 pad;
	struct lb_endpoint vip;
	struct lb_endpoint backend;
};

#endif /* CLUSTERSET_SOCKET_LB_H */
