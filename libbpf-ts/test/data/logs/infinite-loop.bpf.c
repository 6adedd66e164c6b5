// Spins until a packet byte changes, but nothing in the loop can change it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int spin(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	volatile __u8 *flag = data;

	if (data + 1 > data_end)
		return XDP_PASS;
	while (*flag != 0x42)
		;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
