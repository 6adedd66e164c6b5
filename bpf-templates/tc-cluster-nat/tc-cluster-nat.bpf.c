// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* tc-cluster-nat: DNAT (and optional SNAT) at tc for traffic the socket hooks never see — packets from
 * pods in other network namespaces, forwarded traffic.
 *
 * nat_forward rewrites a new IPv4 TCP/UDP connection to a service VIP onto a backend chosen by Maglev
 * consistent hashing (the ring is built from the policy's weights by the engine) and, when snat_addr is
 * set, its source onto the node's address and a free port. nat_reply rewrites the replies back, so the
 * client only ever sees the VIP. Both directions live in one LRU conntrack map; checksums are updated
 * incrementally (IPv4 header, TCP/UDP with the pseudo-header; a zero UDP checksum stays zero).
 *
 * Attach on an Ethernet device with tcx links: nat_forward where the client's packets leave (egress of
 * the client's interface, or ingress of the host side of a pod's veth), nat_reply where the replies
 * come back. Everything else passes untouched. */
#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "studio_packet.h"
#include "tc-cluster-nat.h"

#define IP_OFF		ETH_HLEN
#define IP_CSUM_OFF	(IP_OFF + offsetof(struct iphdr, check))
#define IP_SRC_OFF	(IP_OFF + offsetof(struct iphdr, saddr))
#define IP_DST_OFF	(IP_OFF + offsetof(struct iphdr, daddr))

/* Entries per Maglev ring (a prime, the size buildMaglevTable was given). */
const volatile __u32 ring_size = 4099;
/* SNAT source address (network byte order); 0 keeps the client's source. */
const volatile __u32 snat_addr = 0;
const volatile __u16 snat_port_min = 32768;
const volatile __u16 snat_port_max = 60999;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_SERVICES);
	__type(key, struct service_key);
	__type(value, struct service);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NAT_RING_ENTRIES);
	__type(key, __u32);
	__type(value, __u32);	/* backend index, or 0xffffffff for none */
} nat_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct nat_backend);
} nat_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_CONNECTIONS);
	__type(key, struct ct_key);
	__type(value, struct ct_nat);
} conntrack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NAT_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} nat_stats SEC(".maps");

struct packet {
	struct ct_key key;
	__u32 l4_off;
};

static __always_inline void count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&nat_stats, &stat);

	if (n)
		*n += 1;
}

/* murmur3_x86_32 over the key's four 32-bit words. */
static __always_inline __u32 flow_hash(const struct ct_key *key)
{
	return studio_flow_hash(key, sizeof(*key), FLOW_HASH_SEED);
}

/* IPv4 TCP/UDP with its ports; false for everything else, fragments included. */
static __always_inline bool parse(struct __sk_buff *skb, __u8 dir, struct packet *pkt)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth;
	struct iphdr *ip;
	__be16 *ports;

	if (!studio_eth(data, data_end, &eth) || eth->h_proto != bpf_htons(ETH_P_IP))
		return false;
	if (studio_ipv4_ports(eth + 1, data_end, &ip, &ports) != STUDIO_PARSED)
		return false;
	pkt->l4_off = IP_OFF + ip->ihl * 4;
	pkt->key.saddr = ip->saddr;
	pkt->key.daddr = ip->daddr;
	pkt->key.sport = ports[0];
	pkt->key.dport = ports[1];
	pkt->key.proto = ip->protocol;
	pkt->key.dir = dir;
	return true;
}

static __always_inline int rewrite_addr(struct __sk_buff *skb, __u32 off, __u32 l4_csum, __u64 l4_flags, __be32 from, __be32 to)
{
	if (from == to)
		return 0;
	if (bpf_l4_csum_replace(skb, l4_csum, from, to, l4_flags | BPF_F_PSEUDO_HDR | sizeof(to)) ||
	    bpf_l3_csum_replace(skb, IP_CSUM_OFF, from, to, sizeof(to)))
		return -1;
	return bpf_skb_store_bytes(skb, off, &to, sizeof(to), 0);
}

static __always_inline int rewrite_port(struct __sk_buff *skb, __u32 off, __u32 l4_csum, __u64 l4_flags, __be16 from, __be16 to)
{
	if (from == to)
		return 0;
	if (bpf_l4_csum_replace(skb, l4_csum, from, to, l4_flags | sizeof(to)))
		return -1;
	return bpf_skb_store_bytes(skb, off, &to, sizeof(to), 0);
}

/* Gives the packet the tuple `to`, with checksums to match; TC_ACT_SHOT if the skb cannot be written. */
static __always_inline int rewrite(struct __sk_buff *skb, const struct packet *pkt, const struct ct_nat *to)
{
	bool tcp = pkt->key.proto == IPPROTO_TCP;
	__u32 l4_csum = pkt->l4_off + (tcp ? 16 : 6);
	__u64 flags = tcp ? 0 : BPF_F_MARK_MANGLED_0;

	if (rewrite_addr(skb, IP_SRC_OFF, l4_csum, flags, pkt->key.saddr, to->saddr) ||
	    rewrite_addr(skb, IP_DST_OFF, l4_csum, flags, pkt->key.daddr, to->daddr) ||
	    rewrite_port(skb, pkt->l4_off, l4_csum, flags, pkt->key.sport, to->sport) ||
	    rewrite_port(skb, pkt->l4_off + 2, l4_csum, flags, pkt->key.dport, to->dport))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

static __always_inline struct nat_backend *choose_backend(const struct service *svc, const struct packet *pkt)
{
	__u32 slot = svc->ring * ring_size + flow_hash(&pkt->key) % ring_size;
	__u32 *id = bpf_map_lookup_elem(&nat_rings, &slot);
	struct nat_backend *be;

	if (!id)
		return NULL;
	be = bpf_map_lookup_elem(&nat_backends, id);
	return be && (be->flags & BACKEND_F_UP) ? be : NULL;
}

/* Records both directions of a new connection to `be`; false when SNAT found no free port. */
static __always_inline bool track(const struct packet *pkt, const struct nat_backend *be, struct ct_nat *out)
{
	struct ct_key reply = { .saddr = be->addr, .sport = be->port, .proto = pkt->key.proto, .dir = CT_REPLY };
	struct ct_nat back = { .saddr = pkt->key.daddr, .daddr = pkt->key.saddr, .sport = pkt->key.dport, .dport = pkt->key.sport };
	bool stored = false;

	out->daddr = be->addr;
	out->dport = be->port;
	if (!snat_addr) {
		out->saddr = reply.daddr = pkt->key.saddr;
		out->sport = reply.dport = pkt->key.sport;
		stored = !bpf_map_update_elem(&conntrack, &reply, &back, BPF_ANY);
	} else {
		__u32 range = snat_port_max - snat_port_min + 1;
		__u32 start = flow_hash(&pkt->key);

		out->saddr = reply.daddr = snat_addr;
		for (int i = 0; i < SNAT_PORT_TRIES && !stored; i++) {
			reply.dport = bpf_htons(snat_port_min + (start + i) % range);
			stored = !bpf_map_update_elem(&conntrack, &reply, &back, BPF_NOEXIST);
		}
		out->sport = reply.dport;
	}
	return stored && !bpf_map_update_elem(&conntrack, &pkt->key, out, BPF_ANY);
}

SEC("tc")
int nat_forward(struct __sk_buff *skb)
{
	struct packet pkt = {};
	struct service_key skey = {};
	struct nat_backend *be;
	struct ct_nat *known, fresh;
	struct service *svc;

	if (!parse(skb, CT_FORWARD, &pkt))
		return TC_ACT_OK;
	known = bpf_map_lookup_elem(&conntrack, &pkt.key);
	if (known)
		return rewrite(skb, &pkt, known);
	skey.vip = pkt.key.daddr;
	skey.port = pkt.key.dport;
	skey.proto = pkt.key.proto;
	svc = bpf_map_lookup_elem(&services, &skey);
	if (!svc)
		return TC_ACT_OK;
	be = choose_backend(svc, &pkt);
	if (!be) {
		count(NAT_NO_BACKEND);
		return TC_ACT_SHOT;
	}
	if (!track(&pkt, be, &fresh)) {
		count(NAT_NO_PORT);
		return TC_ACT_SHOT;
	}
	count(NAT_NEW_CONNECTION);
	return rewrite(skb, &pkt, &fresh);
}

SEC("tc")
int nat_reply(struct __sk_buff *skb)
{
	struct packet pkt = {};
	struct ct_nat *back;

	if (!parse(skb, CT_REPLY, &pkt))
		return TC_ACT_OK;
	back = bpf_map_lookup_elem(&conntrack, &pkt.key);
	return back ? rewrite(skb, &pkt, back) : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
