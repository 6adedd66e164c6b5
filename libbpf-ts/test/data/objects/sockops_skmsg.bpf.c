// SPDX-License-Identifier: GPL-2.0
/* sockops records established sockets in a sockhash; sk_msg redirects between them. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sock_key {
	__u32 sip;
	__u32 dip;
	__u32 sport;
	__u32 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 65535);
	__type(key, struct sock_key);
	__type(value, int);
} sock_map SEC(".maps");

SEC("sockops")
int record_sock(struct bpf_sock_ops *ops)
{
	struct sock_key key = {
		.sip = ops->local_ip4, .dip = ops->remote_ip4,
		.sport = ops->local_port, .dport = ops->remote_port,
	};

	if (ops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB || ops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		bpf_sock_hash_update(ops, &sock_map, &key, BPF_NOEXIST);
	return 0;
}

SEC("sk_msg")
int redirect_msg(struct sk_msg_md *msg)
{
	struct sock_key key = {
		.sip = msg->remote_ip4, .dip = msg->local_ip4,
		.sport = msg->remote_port, .dport = msg->local_port,
	};

	return bpf_msg_redirect_hash(msg, &sock_map, &key, BPF_F_INGRESS);
}

char LICENSE[] SEC("license") = "GPL";
