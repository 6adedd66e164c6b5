/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * same-node-sockredir: the map layouts the program and user space share. Addresses are in network byte
 * order (IPv4 in addr[0], the rest zero); ports in host byte order.
 */
#ifndef SAME_NODE_SOCKREDIR_H
#define SAME_NODE_SOCKREDIR_H

#define SR_MAX_SOCKETS 65536
#define SR_MAX_LOCAL_ADDRS 1024

/* sr_sockhash key: a TCP socket as seen from its own end. */
struct sr_sock_key {
	__u32 local_addr[4];
	__u32 remote_addr[4];
	__u32 local_port;
	__u32 remote_port;
	__u32 family;
};

/* sr_local_addrs key: an address on this node besides loopback (a pod IP, a node IP). */
struct sr_addr {
	__u32 addr[4];
	__u32 family;
};

/* sr_stats value (per CPU, key 0). */
struct sr_counters {
	/* Established sockets put into sr_sockhash. */
	__u64 sockets_added;
	/* sendmsg calls delivered straight into the peer socket, and their bytes. */
	__u64 msgs_redirected;
	__u64 bytes_redirected;
	/* sendmsg calls whose peer is not in sr_sockhash: they take the TCP/IP stack as usual. */
	__u64 msgs_passed;
};

#endif /* SAME_NODE_SOCKREDIR_H */
