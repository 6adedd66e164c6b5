// SPDX-License-Identifier: GPL-2.0
/* Socket load balancing: a connect() to the VIP is rewritten onto a 127.0.0.1 backend. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 vip_addr = 0;	/* network byte order */
const volatile __u16 vip_port = 0;	/* host byte order */
const volatile __u16 backend_port = 0;	/* host byte order */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} rewrites SEC(".maps");

SEC("cgroup/connect4")
int connect_vip(struct bpf_sock_addr *ctx)
{
	if (ctx->user_ip4 != vip_addr || ctx->user_port != bpf_htons(vip_port))
		return 1;
	ctx->user_ip4 = bpf_htonl(0x7f000001);
	ctx->user_port = bpf_htons(backend_port);
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&rewrites, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
