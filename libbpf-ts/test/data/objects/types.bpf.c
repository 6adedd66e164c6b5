// SPDX-License-Identifier: GPL-2.0
/* Globals covering many BTF kinds, with known initial values for decoding tests. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum mode { MODE_OFF = 0, MODE_ON = 1, MODE_AUTO = -1 };

typedef unsigned long long counter_t;

union addr {
	__u32 v4;
	__u8 bytes[4];
};

struct flags {
	unsigned int enabled : 1;
	unsigned int level : 3;
	int delta : 4;
};

struct settings {
	enum mode mode;
	char name[8];
	counter_t limit;
	long long offset;
	short shift;
	_Bool strict;
	struct flags flags;
	union addr addr;
	float ratio;
	__u32 ports[3];
	int __attribute__((btf_type_tag("user"))) *user_ptr;
};

struct settings cfg __attribute__((btf_decl_tag("tunable"))) = {
	.mode = MODE_AUTO,
	.name = "edge",
	.limit = 18446744073709551615ULL,
	.offset = -5,
	.shift = -3,
	.strict = 1,
	.flags = { .enabled = 1, .level = 5, .delta = -2 },
	.addr = { .v4 = 0x04030201 },
	.ratio = 0.5f,
	.ports = { 80, 443, 8080 },
};

volatile const int forward_only = 1;
struct later;
struct later *pending;

SEC("socket")
int read_cfg(struct __sk_buff *skb)
{
	return cfg.mode + forward_only + (pending != 0);
}

char LICENSE[] SEC("license") = "GPL";
