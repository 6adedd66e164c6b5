/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * mesh-intercept: the map layouts the program and user space share. Addresses and the original
 * destination's port are in network byte order; the client port in host byte order.
 */
#ifndef MESH_INTERCEPT_H
#define MESH_INTERCEPT_H

#define MI_MAX_PENDING 65536
#define MI_MAX_CLIENTS 65536

/* Where an intercepted connection was going. */
struct mi_orig_dst {
	__u32 addr;
	__u16 port;
	__u16 pad;
};

/* mi_client_dst key: the client's source address and port, as the proxy sees its peer. */
struct mi_client_key {
	__u32 addr;
	__u32 port;
};

/* mi_stats value (per CPU, key 0). */
struct mi_counters {
	/* connect() calls sent to the proxy, and those left alone because they come from the proxy. */
	__u64 redirected;
	__u64 exempt;
	/* Established client sockets whose original destination was recorded. */
	__u64 learned;
	/* SO_ORIGINAL_DST answers given to the proxy. */
	__u64 answered;
};

#endif /* MESH_INTERCEPT_H */
