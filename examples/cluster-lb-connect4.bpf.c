// SPDX-License-Identifier: GPL-2.0
/* Socket-level load balancing across clusters: connect() to a service VIP is rewritten to a backend
 * picked by weight from the service's backend table (cgroup/connect4, as Cilium and FSM do). */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_BACKENDS 16

struct service_key {
	__u32 vip;   /* network order */
	__u16 port;  /* network order */
	__u16 pad;
};

struct service {
	__u32 backend_count;
	__u32 total_weight;
};

struct backend {
	__u32 addr;      /* network order */
	__u16 port;      /* network order */
	__u16 cluster_id;
	__u32 weight;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct service_key);
	__type(value, struct service);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} cluster_connects SEC(".maps");

SEC("cgroup/connect4")
int balance_connect4(struct bpf_sock_addr *ctx)
{
	struct service_key key = { .vip = ctx->user_ip4, .port = (__u16)ctx->user_port };
	struct service *svc = bpf_map_lookup_elem(&services, &key);
	if (!svc || svc->backend_count == 0 || svc->total_weight == 0)
		return 1;

	__u32 pick = bpf_get_prandom_u32() % svc->total_weight;
	for (__u32 i = 0; i < MAX_BACKENDS && i < svc->backend_count; i++) {
		__u32 idx = i;
		struct backend *be = bpf_map_lookup_elem(&backends, &idx);
		if (!be)
			return 1;
		if (pick < be->weight) {
			ctx->user_ip4 = be->addr;
			ctx->user_port = be->port;
			__u32 cluster = be->cluster_id & 7;
			__u64 *count = bpf_map_lookup_elem(&cluster_connects, &cluster);
			if (count)
				*count += 1;
			return 1;
		}
		pick -= be->weight;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
