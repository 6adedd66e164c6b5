// SPDX-License-Identifier: GPL-2.0
/* cgroup/connect4 balancer: settings in .rodata, counters in .bss/.data, backends in an array. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct backend {
	__u32 addr;
	__u16 port;
	__u16 weight;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

const volatile __u32 backend_count = 2;
const volatile __u32 vip_addr = 0x0a000001;
__u64 rewrites = 0;
__u32 last_backend = 7;

SEC("cgroup/connect4")
int balance(struct bpf_sock_addr *ctx)
{
	__u32 idx;
	struct backend *be;

	if (ctx->user_ip4 != vip_addr || backend_count == 0)
		return 1;
	idx = bpf_get_prandom_u32() % backend_count;
	be = bpf_map_lookup_elem(&backends, &idx);
	if (!be)
		return 1;
	ctx->user_ip4 = be->addr;
	ctx->user_port = be->port;
	last_backend = idx;
	__sync_fetch_and_add(&rewrites, 1);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
