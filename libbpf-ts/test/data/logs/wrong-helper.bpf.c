// XDP programs have no socket buffer: bpf_skb_load_bytes is for tc and socket filters.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int peek_header(struct xdp_md *ctx)
{
	__u8 first[4];

	if (bpf_skb_load_bytes(ctx, 0, first, sizeof(first)) < 0)
		return XDP_PASS;
	return first[0] == 0xff ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
