// SPDX-License-Identifier: GPL-2.0
/* A FailOver picker with a classic bug: the health lookup's result is used without a NULL check,
 * so the verifier rejects it. `ebpf-studio verify` shows the line, why, and the fix. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct cluster_health {
	__u32 healthy_endpoints;
	__u32 gateway_ip;
	__u16 gateway_port;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct cluster_health);
} clusters SEC(".maps");

SEC("cgroup/connect4")
int failover_connect4(struct bpf_sock_addr *ctx)
{
	__u32 local = 1, remote = 2;
	struct cluster_health *h = bpf_map_lookup_elem(&clusters, &local);
	if (h->healthy_endpoints > 0)
		return 1;
	h = bpf_map_lookup_elem(&clusters, &remote);
	if (h && h->gateway_ip) {
		ctx->user_ip4 = h->gateway_ip;
		ctx->user_port = h->gateway_port;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
