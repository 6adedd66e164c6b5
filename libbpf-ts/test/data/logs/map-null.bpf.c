// A HASH lookup dereferenced without a NULL check.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

SEC("xdp")
int count_packets(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex;
	__u64 *value = bpf_map_lookup_elem(&counters, &key);

	*value += 1; /* compteur de paquets reçus → +1 */
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
