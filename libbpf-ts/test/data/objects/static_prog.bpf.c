// SPDX-License-Identifier: GPL-2.0
/* A program section holding a static function (libbpf rejects it) and an unknown SEC name. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
static int hidden_prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("not_a_real_type")
int mystery(void *ctx)
{
	return hidden_prog(ctx);
}

char LICENSE[] SEC("license") = "GPL";
