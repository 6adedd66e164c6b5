// Indexes a map value with a number read from the packet without bounding it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct slots {
	__u64 hits[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slots);
} table SEC(".maps");

SEC("xdp")
int bump_slot(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 key = 0;
	struct slots *s;
	int idx;

	if (data + 4 > data_end)
		return XDP_PASS;
	idx = *(int *)data;
	s = bpf_map_lookup_elem(&table, &key);
	if (!s)
		return XDP_PASS;
	s->hits[idx] += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
