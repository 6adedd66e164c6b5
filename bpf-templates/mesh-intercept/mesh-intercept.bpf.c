// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * mesh-intercept: outbound TCP connections go to a local proxy port, as a sidecar mesh does with
 * iptables REDIRECT, but at connect() time. connect4 records the original destination by socket cookie
 * and sends the socket to the proxy; sockops, once the client socket is established, re-keys that record
 * by the client's address and port (what the proxy sees as its peer); getsockopt(SOL_IP, SO_ORIGINAL_DST)
 * on the proxy's accepted socket answers from it. The proxy's own connections are exempt, recognised
 * by its cgroup or by a socket mark.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "studio_net.h"
#include "mesh-intercept.h"

/* The proxy's listener. */
const volatile __u32 proxy_ip4 = __bpf_constant_htonl(0x7f000001);
const volatile __u16 proxy_port = 15001;
/* Connections from this cgroup (its id: the inode number of its cgroup2 directory) are not intercepted; 0: off. */
const volatile __u64 proxy_cgroup_id = 0;
/* Connections from sockets with this SO_MARK are not intercepted; 0: off. */
const volatile __u32 proxy_mark = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MI_MAX_PENDING);
	__type(key, __u64);
	__type(value, struct mi_orig_dst);
} mi_cookie_dst SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MI_MAX_CLIENTS);
	__type(key, struct mi_client_key);
	__type(value, struct mi_orig_dst);
} mi_client_dst SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mi_counters);
} mi_stats SEC(".maps");

static __always_inline struct mi_counters *stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&mi_stats, &zero);
}

static __always_inline int from_proxy(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;

	if (proxy_cgroup_id && bpf_get_current_cgroup_id() == proxy_cgroup_id)
		return 1;
	return proxy_mark && sk && sk->mark == proxy_mark;
}

SEC("cgroup/connect4")
int mi_connect4(struct bpf_sock_addr *ctx)
{
	struct mi_orig_dst orig = {};
	struct mi_counters *c;
	__u64 cookie;

	if (ctx->protocol != IPPROTO_TCP)
		return 1;
	orig.addr = ctx->user_ip4;
	orig.port = (__u16)ctx->user_port;
	if (orig.addr == proxy_ip4 && orig.port == bpf_htons(proxy_port))
		return 1;
	c = stats();
	if (from_proxy(ctx)) {
		if (c)
			c->exempt += 1;
		return 1;
	}
	cookie = bpf_get_socket_cookie(ctx);
	if (bpf_map_update_elem(&mi_cookie_dst, &cookie, &orig, BPF_ANY) != 0)
		return 1;
	ctx->user_ip4 = proxy_ip4;
	ctx->user_port = bpf_htons(proxy_port);
	if (c)
		c->redirected += 1;
	return 1;
}

SEC("sockops")
int mi_sockops(struct bpf_sock_ops *skops)
{
	struct mi_client_key key = {};
	struct mi_orig_dst *orig;
	struct mi_counters *c;
	__u64 cookie;

	if (skops->family != AF_INET)
		return 1;
	key.addr = skops->local_ip4;
	key.port = skops->local_port;
	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		cookie = bpf_get_socket_cookie(skops);
		orig = bpf_map_lookup_elem(&mi_cookie_dst, &cookie);
		if (!orig)
			return 1;
		bpf_map_update_elem(&mi_client_dst, &key, orig, BPF_ANY);
		bpf_map_delete_elem(&mi_cookie_dst, &cookie);
		/* Ask for state changes, to forget the client when its socket closes. */
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
		c = stats();
		if (c)
			c->learned += 1;
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[1] == BPF_TCP_CLOSE)
			bpf_map_delete_elem(&mi_client_dst, &key);
		break;
	}
	return 1;
}

SEC("cgroup/getsockopt")
int mi_getsockopt(struct bpf_sockopt *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	struct sockaddr_in *sin = ctx->optval;
	struct mi_client_key key = {};
	struct mi_orig_dst *orig;
	struct mi_counters *c;

	if (ctx->level != SOL_IP || ctx->optname != SO_ORIGINAL_DST || !sk)
		return 1;
	if (sk->family != AF_INET || sk->src_port != proxy_port)
		return 1;
	key.addr = sk->dst_ip4;
	key.port = bpf_ntohs(sk->dst_port);
	orig = bpf_map_lookup_elem(&mi_client_dst, &key);
	if (!orig)
		return 1;
	if ((void *)(sin + 1) > ctx->optval_end)
		return 1;
	sin->sin_family = AF_INET;
	sin->sin_port = orig->port;
	sin->sin_addr.s_addr = orig->addr;
	__builtin_memset(sin->__pad, 0, sizeof(sin->__pad));
	ctx->optlen = sizeof(*sin);
	/* Keeps clang from merging the two 4-byte stores into one 8-byte store, which the verifier refuses. */
	asm volatile("" ::: "memory");
	ctx->retval = 0;
	c = stats();
	if (c)
		c->answered += 1;
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
