#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/ingress")
int cg_in(struct __sk_buff *skb)
{
	if (skb->len > 1500)
		return 2;
	return 1;
}
char LICENSE[] SEC("license") = "GPL";
