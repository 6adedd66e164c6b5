// Three nested calls each with a large stack frame: together they exceed 512 bytes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int leaf(int x)
{
	volatile char buf[240];

	buf[x & 127] = x;
	return buf[3];
}

static __attribute__((noinline)) int middle(int x)
{
	volatile char buf[240];

	buf[x & 127] = x;
	return leaf(buf[7]) + 1;
}

SEC("xdp")
int nested(struct xdp_md *ctx)
{
	volatile char buf[120];

	buf[ctx->ingress_ifindex & 63] = 1;
	return middle(buf[2]) > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
