// Passes a number where the helper wants a pointer to the key.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

SEC("xdp")
int bad_key(struct xdp_md *ctx)
{
	long key = ctx->rx_queue_index;

	bpf_map_delete_elem(&counters, (void *)key);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
