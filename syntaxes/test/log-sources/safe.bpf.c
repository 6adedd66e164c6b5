#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int xdp_safe(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	unsigned char *p = data;
	int n = 0;
	if (p + 4 > (unsigned char *)end)
		return XDP_DROP;
	if (p[0] == 1)
		n++;
	if (p[1] == 2)
		n++;
	return n ? XDP_PASS : XDP_TX;
}
char LICENSE[] SEC("license") = "GPL";
