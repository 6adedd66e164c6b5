#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int xdp_wh(struct xdp_md *ctx)
{
	char buf[4];
	bpf_skb_load_bytes(ctx, 0, buf, 4);
	return buf[0] ? XDP_PASS : XDP_DROP;
}
char LICENSE[] SEC("license") = "GPL";
