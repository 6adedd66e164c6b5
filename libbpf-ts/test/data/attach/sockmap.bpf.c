// SPDX-License-Identifier: GPL-2.0
/* sockops puts every established TCP socket of the cgroup into a sockhash; sk_msg counts what they send. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct sock_key {
	__u32 local_ip4;
	__u32 remote_ip4;
	__u32 local_port;	/* host byte order */
	__u32 remote_port;	/* host byte order */
};

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 64);
	__type(key, struct sock_key);
	__type(value, __u64);
} socks SEC(".maps");

enum { ADDED, MSGS, BYTES, STAT_COUNT };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void add(__u32 stat, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &stat);
	if (v)
		__sync_fetch_and_add(v, n);
}

SEC("sockops")
int track(struct bpf_sock_ops *skops)
{
	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	struct sock_key key = {
		.local_ip4 = skops->local_ip4,
		.remote_ip4 = skops->remote_ip4,
		.local_port = skops->local_port,
		.remote_port = bpf_ntohl(skops->remote_port),
	};
	if (bpf_sock_hash_update(skops, &socks, &key, BPF_NOEXIST) == 0)
		add(ADDED, 1);
	return 1;
}

SEC("sk_msg")
int count_msg(struct sk_msg_md *msg)
{
	add(MSGS, 1);
	add(BYTES, msg->size);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
