#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int xdp_mis(struct xdp_md *ctx)
{
	char buf[24] = {};
	__sync_fetch_and_add((__u64 *)(buf + 3), 1);
	return buf[5] ? XDP_PASS : XDP_DROP;
}
char LICENSE[] SEC("license") = "GPL";
