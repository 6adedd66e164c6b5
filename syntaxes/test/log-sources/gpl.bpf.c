#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int xdp_gpl(struct xdp_md *ctx)
{
	bpf_printk("hi");
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "Proprietary";
