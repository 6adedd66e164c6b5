// Calls a helper number this kernel does not have.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static long (*bpf_future_helper)(void *ctx) = (void *)999;

SEC("xdp")
int call_future(struct xdp_md *ctx)
{
	return bpf_future_helper(ctx) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
