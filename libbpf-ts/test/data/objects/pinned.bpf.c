// SPDX-License-Identifier: GPL-2.0
/* A kprobe counting calls into a map pinned by name, with map flags. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} connect_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(map_flags, BPF_F_NO_PREALLOC);
} sized_only SEC(".maps");

SEC("kprobe/tcp_v4_connect")
int count_connect(void *ctx)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&connect_calls, &key);

	if (count)
		*count += 1;
	bpf_map_update_elem(&sized_only, &key, &key, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
