// cgroup_skb ingress programs must return 0 (drop) or 1 (allow).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/ingress")
int ingress_verdict(struct __sk_buff *skb)
{
	if (skb->len > 1500)
		return 2;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
