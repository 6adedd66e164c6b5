// Reads a stack slot that was never written (rejected without CAP_PERFMON).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int uninit_read(struct xdp_md *ctx)
{
	volatile __u64 slots[4];

	slots[0] = ctx->ingress_ifindex;
	return slots[2] ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
