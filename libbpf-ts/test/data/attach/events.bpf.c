// SPDX-License-Identifier: GPL-2.0
/* Event producers: ring buffer and perf buffer records from XDP test runs and from a syscall tracepoint. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct record {
	__u64 seq;
	__u32 tag;
	__u32 pid;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

enum { SEQ, RING_FULL, STAT_COUNT };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* The process whose getppid() calls the tracepoint program reports. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

static __always_inline __u64 bump(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &stat);
	return v ? __sync_fetch_and_add(v, 1) : 0;
}

static __always_inline void emit(__u32 tag)
{
	struct record r = { .seq = bump(SEQ), .tag = tag, .pid = bpf_get_current_pid_tgid() >> 32 };
	if (bpf_ringbuf_output(&ring, &r, sizeof(r), 0) != 0)
		bump(RING_FULL);
}

SEC("xdp")
int ring_emit(struct xdp_md *ctx)
{
	emit(0x52494e47);
	return XDP_PASS;
}

SEC("xdp")
int perf_emit(struct xdp_md *ctx)
{
	struct record r = { .seq = bump(SEQ), .tag = 0x50455246 };
	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &r, sizeof(r));
	return XDP_PASS;
}

SEC("xdp")
int print_marker(struct xdp_md *ctx)
{
	bpf_printk("ebst-marker %d", (__u32)(bpf_get_current_pid_tgid() >> 32));
	return XDP_PASS;
}

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	__u32 key = 0;
	__u32 *pid = bpf_map_lookup_elem(&target, &key);
	if (!pid || *pid != bpf_get_current_pid_tgid() >> 32)
		return 0;
	emit(0x54524345);
	return 0;
}

SEC("raw_tp/sys_enter")
int on_sys_enter(void *ctx)
{
	bump(SEQ);
	return 0;
}

SEC("kprobe/do_nanosleep")
int on_nanosleep(void *ctx)
{
	bump(SEQ);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
