// SPDX-License-Identifier: GPL-2.0
/* Benchmark producer: one ring-buffer record per getppid() of every process; full-buffer losses counted. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct tick {
	__u64 seq;
};

const struct tick *tick_type __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} ticks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	__u32 seq_key = 0, full_key = 1;
	__u64 *seq = bpf_map_lookup_elem(&counters, &seq_key);
	__u64 *full = bpf_map_lookup_elem(&counters, &full_key);
	if (!seq || !full)
		return 0;
	struct tick t = { .seq = __sync_fetch_and_add(seq, 1) };
	if (bpf_ringbuf_output(&ticks, &t, sizeof(t), 0) != 0)
		__sync_fetch_and_add(full, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
