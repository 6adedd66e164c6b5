// bpf_trace_printk is GPL-only; this object says it is proprietary.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int trace_len(struct xdp_md *ctx)
{
	bpf_printk("len %d", ctx->data_end - ctx->data);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Proprietary";
