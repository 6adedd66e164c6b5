// Passes an uninitialised key to a map helper (rejected without CAP_PERFMON).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int lookup_garbage(struct xdp_md *ctx)
{
	__u64 key;

	if (ctx->ingress_ifindex == 3)
		key = 1;
	return bpf_map_lookup_elem(&seen, &key) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
