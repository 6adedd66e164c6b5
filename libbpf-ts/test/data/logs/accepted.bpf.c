// A valid program with a subprogram: the verifier accepts it and reports its statistics.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} bytes SEC(".maps");

static __attribute__((noinline)) int account(__u32 ifindex, __u64 len)
{
	__u64 *total = bpf_map_lookup_elem(&bytes, &ifindex);

	if (total) {
		__sync_fetch_and_add(total, len);
		return 0;
	}
	bpf_map_update_elem(&bytes, &ifindex, &len, BPF_NOEXIST);
	return 1;
}

SEC("xdp")
int count_bytes(struct xdp_md *ctx)
{
	account(ctx->ingress_ifindex, ctx->data_end - ctx->data);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
