// SPDX-License-Identifier: GPL-2.0
/* Map definitions libbpf rejects: conflicting key size, an unknown field, no type, a bad pinning value. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__uint(key_size, 8);
	__type(key, __u32);
	__type(value, __u32);
} conflicting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entires, 4);
} misspelled SEC(".maps");

struct {
	__uint(max_entries, 1);
	__uint(pinning, 7);
} untyped SEC(".maps");

SEC("xdp")
int use_maps(struct xdp_md *ctx)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&conflicting, &key) && bpf_map_lookup_elem(&misspelled, &key) &&
	       bpf_map_lookup_elem(&untyped, &key) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
