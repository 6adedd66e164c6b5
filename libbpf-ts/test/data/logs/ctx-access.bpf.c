// Reads past the end of struct xdp_md.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int read_beyond_ctx(struct xdp_md *ctx)
{
	__u32 *fields = (__u32 *)ctx;

	return fields[12] == 7 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
