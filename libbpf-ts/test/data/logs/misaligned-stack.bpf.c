// A 64-bit store at an odd stack offset (stack accesses are always checked for alignment).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int odd_store(struct xdp_md *ctx)
{
	__u64 value = ctx->ingress_ifindex;

	asm volatile("*(u64 *)(r10 - 13) = %[v]" : : [v] "r"(value) : "memory");
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
