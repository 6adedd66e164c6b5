#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __noinline int sub(int x) { return x & 1; }

SEC("xdp")
int xdp_ok(struct xdp_md *ctx)
{
	return sub(ctx->ingress_ifindex) ? XDP_PASS : XDP_DROP;
}
char LICENSE[] SEC("license") = "GPL";
