// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * clusterset-socket-lb: a service VIP:port goes to a backend chosen across clusters, at the socket
 * (connect, sendmsg), so no packet is ever rewritten. The policy lives in maps that `ebpf-studio apply`
 * rewrites without reloading: lb_services holds each VIP's clusters (weights, failover order, health
 * flags), lb_backends each cluster's healthy backends (its endpoints, or its gateway). recvmsg and
 * getpeername turn the backend back into the VIP, so applications only ever see the VIP.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "studio_net.h"
#include "studio_events.h"
#include "clusterset-socket-lb.h"

STUDIO_EVENT_TYPE(lb_event);

/* A VIP without a healthy backend fails connect()/sendmsg() with EPERM instead of reaching the VIP itself. */
const volatile __u8 reject_no_backend = 1;
/* Send an lb_event to studio_events for every steered connect and datagram. */
const volatile __u8 emit_events = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_SERVICES);
	__type(key, struct lb_service_key);
	__type(value, struct lb_service);
} lb_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, struct lb_backend_key);
	__type(value, struct lb_endpoint);
} lb_backends SEC(".maps");

/* socket cookie + backend → VIP; LRU, so sockets that are long gone age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_MAX_REVERSE);
	__type(key, struct lb_reverse_key);
	__type(value, struct lb_endpoint);
} lb_reverse SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, LB_MAX_SERVICES * (LB_MAX_CLUSTERS + 1));
	__type(key, struct lb_stats_key);
	__type(value, struct lb_counters);
} lb_stats SEC(".maps");

static __always_inline void count(__u32 service_id, __u32 cluster_id, __u32 hook)
{
	struct lb_stats_key key = { .service_id = service_id, .cluster_id = cluster_id };
	struct lb_counters *c = bpf_map_lookup_elem(&lb_stats, &key);

	if (!c) {
		struct lb_counters zero = {};

		bpf_map_update_elem(&lb_stats, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&lb_stats, &key);
		if (!c)
			return;
	}
	if (hook == LB_HOOK_CONNECT)
		c->connects += 1;
	else
		c->datagrams += 1;
}

/* The slot that takes this connection, or -1 when no cluster is healthy. */
static __always_inline int pick_slot(const struct lb_service *svc)
{
	__u32 total = 0, point;
	int i;

	if (svc->mode == LB_MODE_ORDERED) {
		for (i = 0; i < LB_MAX_CLUSTERS; i++) {
			if (i >= svc->cluster_count)
				break;
			if ((svc->clusters[i].flags & LB_CLUSTER_HEALTHY) && svc->clusters[i].backend_count > 0)
				return i;
		}
		return -1;
	}
	for (i = 0; i < LB_MAX_CLUSTERS; i++) {
		if (i >= svc->cluster_count)
			break;
		if ((svc->clusters[i].flags & LB_CLUSTER_HEALTHY) && svc->clusters[i].backend_count > 0)
			total += svc->clusters[i].weight;
	}
	if (total == 0)
		return -1;
	point = bpf_get_prandom_u32() % total;
	for (i = 0; i < LB_MAX_CLUSTERS; i++) {
		if (i >= svc->cluster_count)
			break;
		if (!(svc->clusters[i].flags & LB_CLUSTER_HEALTHY) || svc->clusters[i].backend_count == 0)
			continue;
		if (point < svc->clusters[i].weight)
			return i;
		point -= svc->clusters[i].weight;
	}
	return -1;
}

/*
 * The hooks pass `family` as a constant, so each program only touches the user_ip4 or user_ip6 fields its
 * attach type may read (the verifier refuses the other family's fields even on a dead path).
 */
static __always_inline void read_dst(struct bpf_sock_addr *ctx, struct lb_endpoint *ep, __u8 family)
{
	ep->family = family;
	ep->port = (__u16)ctx->user_port;
	if (family == AF_INET) {
		ep->addr[0] = ctx->user_ip4;
	} else {
		ep->addr[0] = ctx->user_ip6[0];
		ep->addr[1] = ctx->user_ip6[1];
		ep->addr[2] = ctx->user_ip6[2];
		ep->addr[3] = ctx->user_ip6[3];
	}
}

static __always_inline void write_dst(struct bpf_sock_addr *ctx, const struct lb_endpoint *ep, __u8 family)
{
	if (family == AF_INET) {
		ctx->user_ip4 = ep->addr[0];
	} else {
		ctx->user_ip6[0] = ep->addr[0];
		ctx->user_ip6[1] = ep->addr[1];
		ctx->user_ip6[2] = ep->addr[2];
		ctx->user_ip6[3] = ep->addr[3];
	}
	ctx->user_port = ep->port;
}

static __always_inline void send_event(__u64 cookie, __u32 service_id, __u32 cluster_id, __u32 hook,
				       const struct lb_endpoint *vip, const struct lb_endpoint *backend)
{
	struct lb_event *e = studio_event_reserve(LB_EVENT_STEER, sizeof(*e));

	if (!e)
		return;
	e->cookie = cookie;
	e->service_id = service_id;
	e->cluster_id = cluster_id;
	e->hook = hook;
	e->pad = 0;
	e->vip = *vip;
	e->backend = *backend;
	bpf_ringbuf_submit(e, 0);
}

/* connect and sendmsg: a VIP becomes one backend of the cluster the policy picks. */
static __always_inline int steer(struct bpf_sock_addr *ctx, __u32 hook, __u8 family)
{
	struct lb_service_key key;
	struct lb_backend_key bkey;
	struct lb_reverse_key rkey;
	struct lb_endpoint vip = {};
	struct lb_service *entry;
	struct lb_service svc;
	struct lb_endpoint *backend;
	struct lb_endpoint target;
	struct lb_cluster_slot slot;
	__u64 cookie;
	int i;

	read_dst(ctx, &vip, family);
	__builtin_memset(&key, 0, sizeof(key));
	key.addr[0] = vip.addr[0];
	key.addr[1] = vip.addr[1];
	key.addr[2] = vip.addr[2];
	key.addr[3] = vip.addr[3];
	key.port = vip.port;
	key.family = vip.family;
	key.proto = ctx->protocol;
	entry = bpf_map_lookup_elem(&lb_services, &key);
	if (!entry)
		return 1;
	/*
	 * Decide on copies: `apply` may replace entries meanwhile, and a preallocated hash element can be
	 * reused while we read it.
	 */
	svc = *entry;

	i = pick_slot(&svc);
	if (i < 0 || i >= LB_MAX_CLUSTERS) {
		count(svc.service_id, LB_CLUSTER_NONE, hook);
		return reject_no_backend ? 0 : 1;
	}
	slot = svc.clusters[i];
	bkey.service_id = svc.service_id;
	bkey.cluster_id = slot.cluster_id;
	bkey.index = bpf_get_prandom_u32() % slot.backend_count;
	backend = bpf_map_lookup_elem(&lb_backends, &bkey);
	if (!backend || backend->family != family) {
		count(svc.service_id, LB_CLUSTER_NONE, hook);
		return reject_no_backend ? 0 : 1;
	}
	target = *backend;

	cookie = bpf_get_socket_cookie(ctx);
	__builtin_memset(&rkey, 0, sizeof(rkey));
	rkey.cookie = cookie;
	rkey.backend = target;
	bpf_map_update_elem(&lb_reverse, &rkey, &vip, BPF_ANY);

	write_dst(ctx, &target, family);
	count(svc.service_id, slot.cluster_id, hook);
	if (emit_events)
		send_event(cookie, svc.service_id, slot.cluster_id, hook, &vip, &target);
	return 1;
}

/* recvmsg and getpeername: a backend this socket reached through a VIP reads as that VIP. */
static __always_inline int restore_vip(struct bpf_sock_addr *ctx, __u8 family)
{
	struct lb_reverse_key rkey;
	struct lb_endpoint *vip;

	__builtin_memset(&rkey, 0, sizeof(rkey));
	read_dst(ctx, &rkey.backend, family);
	rkey.cookie = bpf_get_socket_cookie(ctx);
	vip = bpf_map_lookup_elem(&lb_reverse, &rkey);
	if (vip && vip->family == family)
		write_dst(ctx, vip, family);
	return 1;
}

SEC("cgroup/connect4")
int lb_connect4(struct bpf_sock_addr *ctx)
{
	return steer(ctx, LB_HOOK_CONNECT, AF_INET);
}

SEC("cgroup/connect6")
int lb_connect6(struct bpf_sock_addr *ctx)
{
	return steer(ctx, LB_HOOK_CONNECT, AF_INET6);
}

SEC("cgroup/sendmsg4")
int lb_sendmsg4(struct bpf_sock_addr *ctx)
{
	return steer(ctx, LB_HOOK_SENDMSG, AF_INET);
}

SEC("cgroup/sendmsg6")
int lb_sendmsg6(struct bpf_sock_addr *ctx)
{
	return steer(ctx, LB_HOOK_SENDMSG, AF_INET6);
}

SEC("cgroup/recvmsg4")
int lb_recvmsg4(struct bpf_sock_addr *ctx)
{
	return restore_vip(ctx, AF_INET);
}

SEC("cgroup/recvmsg6")
int lb_recvmsg6(struct bpf_sock_addr *ctx)
{
	return restore_vip(ctx, AF_INET6);
}

SEC("cgroup/getpeername4")
int lb_getpeername4(struct bpf_sock_addr *ctx)
{
	return restore_vip(ctx, AF_INET);
}

SEC("cgroup/getpeername6")
int lb_getpeername6(struct bpf_sock_addr *ctx)
{
	return restore_vip(ctx, AF_INET6);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
