/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Events for `ebpf-studio`: one ring buffer per object, `studio_events`, whose records all begin with a
 * struct studio_event_header naming their type (a ring buffer carries no record type of its own), and a
 * per-CPU counter, `studio_ev_lost`, of records the program could not reserve (the kernel counts no
 * ring-buffer drops). The agent streams the first and reads the second as the kernel-side loss.
 *
 * Include after <linux/bpf.h> and <bpf/bpf_helpers.h>.
 */
#ifndef STUDIO_EVENTS_H
#define STUDIO_EVENTS_H

#ifndef STUDIO_EVENTS_BYTES
#define STUDIO_EVENTS_BYTES (256 * 1024)
#endif

struct studio_event_header {
	__u64 ts_ns;	/* bpf_ktime_get_ns() */
	__u32 type;	/* the template's event type number */
	__u32 size;	/* bytes of the whole record, header included */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, STUDIO_EVENTS_BYTES);
} studio_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} studio_ev_lost SEC(".maps");

/*
 * Puts a record type into the object's BTF (clang emits BTF only for types a global, a map or a function
 * signature uses), so the agent can decode records by name: `STUDIO_EVENT_TYPE(lb_event);`.
 */
#define STUDIO_EVENT_TYPE(name) struct name *studio_event_type_##name __attribute__((unused))

/*
 * Reserves a record of `size` bytes and fills its header; NULL (and one more lost record counted) when
 * the buffer is full. Submit with bpf_ringbuf_submit(record, 0).
 */
static __always_inline void *studio_event_reserve(__u32 type, __u32 size)
{
	struct studio_event_header *hdr = bpf_ringbuf_reserve(&studio_events, size, 0);
	__u32 zero = 0;

	if (!hdr) {
		__u64 *lost = bpf_map_lookup_elem(&studio_ev_lost, &zero);

		if (lost)
			*lost += 1;
		return 0;
	}
	hdr->ts_ns = bpf_ktime_get_ns();
	hdr->type = type;
	hdr->size = size;
	return hdr;
}

#endif /* STUDIO_EVENTS_H */
