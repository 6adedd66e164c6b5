// A loop whose bound comes from a map value: the verifier walks it until it gives up.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} limits SEC(".maps");

SEC("xdp")
int sum_rounds(struct xdp_md *ctx)
{
	__u32 key = 0, sum = 0;
	__u32 *rounds = bpf_map_lookup_elem(&limits, &key);

	if (!rounds)
		return XDP_PASS;
	for (__u32 i = 0; i < *rounds; i++)
		sum += i ^ ctx->rx_queue_index;
	return sum & 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
