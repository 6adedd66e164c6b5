// SPDX-License-Identifier: GPL-2.0
/* A cgroup/connect4 program whose verdict is a const volatile setting: 1 is valid, 5 is not. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile int connect_verdict = 1;

SEC("cgroup/connect4")
int settable(struct bpf_sock_addr *ctx)
{
	return connect_verdict;
}

char LICENSE[] SEC("license") = "GPL";
