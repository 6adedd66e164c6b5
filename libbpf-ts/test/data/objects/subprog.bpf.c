// SPDX-License-Identifier: GPL-2.0
/* A tc program calling a static and a global subprogram in .text. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

static __noinline int classify(__u32 len)
{
	if (len > 1000)
		return 2;
	return len > 100;
}

__noinline int global_mark(struct __sk_buff *skb)
{
	if (!skb)
		return 0;
	skb->mark = 42;
	return 1;
}

SEC("tc")
int tc_classify(struct __sk_buff *skb)
{
	int class = classify(skb->len);

	if (class == 2)
		global_mark(skb);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
