#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static long (*bpf_bogus)(void *ctx) = (void *) 999;

SEC("xdp")
int xdp_u(struct xdp_md *ctx)
{
	bpf_printk("hello %d", 1);
	return bpf_bogus(ctx);
}
char LICENSE[] SEC("license") = "GPL";
