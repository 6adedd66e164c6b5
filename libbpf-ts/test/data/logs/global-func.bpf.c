// A global function is verified on its own, for any caller: its pointer argument may be NULL.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int port_of(__u32 *ports, int i)
{
	return ports[i & 3];
}

SEC("xdp")
int pick_port(struct xdp_md *ctx)
{
	__u32 ports[4] = { ctx->ingress_ifindex, 443, 8080, 8443 };

	return port_of(ports, ctx->rx_queue_index) == 80 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
