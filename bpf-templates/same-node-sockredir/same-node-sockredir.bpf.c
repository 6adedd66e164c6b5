// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * same-node-sockredir: TCP connections whose both ends live on this node skip the TCP/IP stack. sockops
 * puts each established socket whose peer is local into sr_sockhash; the sk_msg program, attached to that
 * sockhash, hands every payload the socket sends straight to the peer socket's receive queue. The kernel
 * drops a socket from the sockhash when it closes, so the map only ever holds live sockets.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "studio_net.h"
#include "same-node-sockredir.h"

/* Peers on a loopback address count as local (both ends are processes of this node). */
const volatile __u8 loopback_is_local = 1;

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SR_MAX_SOCKETS);
	__type(key, struct sr_sock_key);
	/* 8 bytes so that a lookup from user space answers the socket's cookie. */
	__type(value, __u64);
} sr_sockhash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SR_MAX_LOCAL_ADDRS);
	__type(key, struct sr_addr);
	__type(value, __u8);
} sr_local_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sr_counters);
} sr_stats SEC(".maps");

static __always_inline struct sr_counters *stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&sr_stats, &zero);
}

static __always_inline int same_addr(const struct sr_sock_key *key)
{
	return key->local_addr[0] == key->remote_addr[0] && key->local_addr[1] == key->remote_addr[1] &&
	       key->local_addr[2] == key->remote_addr[2] && key->local_addr[3] == key->remote_addr[3];
}

/* Whether the socket's peer is on this node: loopback, our own address, or a listed local address. */
static __always_inline int peer_is_local(const struct sr_sock_key *key)
{
	struct sr_addr remote = {};

	if (loopback_is_local) {
		if (key->family == AF_INET && studio_is_loopback4(key->remote_addr[0]))
			return 1;
		if (key->family == AF_INET6 && studio_is_loopback6(key->remote_addr))
			return 1;
	}
	if (same_addr(key))
		return 1;
	remote.addr[0] = key->remote_addr[0];
	remote.addr[1] = key->remote_addr[1];
	remote.addr[2] = key->remote_addr[2];
	remote.addr[3] = key->remote_addr[3];
	remote.family = key->family;
	return bpf_map_lookup_elem(&sr_local_addrs, &remote) != 0;
}

SEC("sockops")
int sr_sockops(struct bpf_sock_ops *skops)
{
	struct sr_sock_key key = {};
	struct sr_counters *c;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	key.family = skops->family;
	if (key.family == AF_INET) {
		key.local_addr[0] = skops->local_ip4;
		key.remote_addr[0] = skops->remote_ip4;
	} else if (key.family == AF_INET6) {
		key.local_addr[0] = skops->local_ip6[0];
		key.local_addr[1] = skops->local_ip6[1];
		key.local_addr[2] = skops->local_ip6[2];
		key.local_addr[3] = skops->local_ip6[3];
		key.remote_addr[0] = skops->remote_ip6[0];
		key.remote_addr[1] = skops->remote_ip6[1];
		key.remote_addr[2] = skops->remote_ip6[2];
		key.remote_addr[3] = skops->remote_ip6[3];
	} else {
		return 1;
	}
	key.local_port = skops->local_port;
	/* remote_port holds the network-order port in its upper 16 bits on little-endian machines. */
	key.remote_port = bpf_ntohl(skops->remote_port);
	if (!peer_is_local(&key))
		return 1;
	if (bpf_sock_hash_update(skops, &sr_sockhash, &key, BPF_NOEXIST) == 0) {
		c = stats();
		if (c)
			c->sockets_added += 1;
	}
	return 1;
}

SEC("sk_msg")
int sr_msg(struct sk_msg_md *msg)
{
	struct sr_sock_key peer = {};
	struct sr_counters *c;
	__u32 size = msg->size;

	/* The peer socket's key: its local end is our remote end and the other way round. */
	peer.family = msg->family;
	if (peer.family == AF_INET) {
		peer.local_addr[0] = msg->remote_ip4;
		peer.remote_addr[0] = msg->local_ip4;
	} else {
		peer.local_addr[0] = msg->remote_ip6[0];
		peer.local_addr[1] = msg->remote_ip6[1];
		peer.local_addr[2] = msg->remote_ip6[2];
		peer.local_addr[3] = msg->remote_ip6[3];
		peer.remote_addr[0] = msg->local_ip6[0];
		peer.remote_addr[1] = msg->local_ip6[1];
		peer.remote_addr[2] = msg->local_ip6[2];
		peer.remote_addr[3] = msg->local_ip6[3];
	}
	peer.local_port = bpf_ntohl(msg->remote_port);
	peer.remote_port = msg->local_port;

	c = stats();
	if (bpf_msg_redirect_hash(msg, &sr_sockhash, &peer, BPF_F_INGRESS) == SK_PASS) {
		if (c) {
			c->msgs_redirected += 1;
			c->bytes_redirected += size;
		}
	} else if (c) {
		c->msgs_passed += 1;
	}
	/* Without a peer in the sockhash the payload simply takes the TCP/IP stack. */
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
