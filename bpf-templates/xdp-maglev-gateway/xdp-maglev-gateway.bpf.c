// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* xdp-maglev-gateway: an XDP L4 balancer towards remote clusters' gateways.
 *
 * A TCP or UDP packet to a VIP gets a gateway by Maglev consistent hashing (the ring is built from the
 * policy's weights by the engine), remembered in an LRU flow table so an established flow keeps its
 * gateway while the policy changes, and leaves through the same interface (XDP_TX) inside an outer IP
 * header addressed to that gateway (IPIP, 6in4, 4in6 or IP6IP6 by the families involved). The inner
 * packet is untouched, so its checksums stay valid; the outer IPv4 header gets its own checksum.
 * Everything else, and IPv4 fragments, go to the stack.
 *
 * The flow table is looked up first: an established flow costs one hash lookup (then two array
 * lookups that check its VIP and gateway are still there); only a flow's first packet looks up the VIP
 * and hashes. Traffic that is not for a VIP pays a flow-table miss before the VIP lookup. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "studio_net.h"
#include "studio_packet.h"
#include "xdp-maglev-gateway.h"

#define ENCAP_TTL	64

/* Entries per Maglev ring (a prime, the size buildMaglevTable was given). */
const volatile __u32 ring_size = 65537;
/* The gateway node's own addresses, the outer source (network byte order). */
const volatile __u32 encap_saddr4 = 0;
const volatile __be32 encap_saddr6[4] = {};
/* The largest IP packet the link carries: encapsulated packets beyond it are dropped. */
const volatile __u32 mtu = 1500;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_VIPS);
	__type(key, struct vip_key);
	__type(value, __u32);	/* index in vip_table */
} vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_VIPS);
	__type(key, __u32);
	__type(value, struct vip_meta);
} vip_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAGLEV_RING_ENTRIES);
	__type(key, __u32);
	__type(value, __u32);	/* backend index, or MAGLEV_NO_BACKEND */
} maglev_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_FLOWS);
	__type(key, struct flow_key);
	__type(value, struct flow_state);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend_stats);
} backend_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} gateway_stats SEC(".maps");

struct packet {
	struct flow_key key;
	__u32 l3_len;		/* the IP packet's own length (without Ethernet padding) */
	__u8 family;
	__u8 tos;
};

enum assign_result { ASSIGNED, NOT_A_VIP, NO_BACKEND };

static __always_inline void count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&gateway_stats, &stat);

	if (n)
		*n += 1;
}

/* murmur3_x86_32 over the key's ten 32-bit words. */
static __always_inline __u32 flow_hash(const struct flow_key *key)
{
	return studio_flow_hash(key, sizeof(*key), FLOW_HASH_SEED);
}

/* A TCP or UDP packet over IPv4 or IPv6: its flow key, family, TOS and IP length (STUDIO_PARSED), an IPv4
 * fragment (STUDIO_FRAGMENT), or anything else (STUDIO_NOT_OURS). */
static __always_inline int parse(void *data, void *data_end, struct packet *pkt)
{
	struct ethhdr *eth;
	__be16 *ports;
	int parsed;

	if (!studio_eth(data, data_end, &eth))
		return STUDIO_NOT_OURS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip;

		parsed = studio_ipv4_ports(eth + 1, data_end, &ip, &ports);
		if (parsed != STUDIO_PARSED)
			return parsed;
		pkt->family = AF_INET;
		pkt->tos = ip->tos;
		pkt->l3_len = bpf_ntohs(ip->tot_len);
		pkt->key.proto = ip->protocol;
		pkt->key.src[0] = ip->saddr;
		pkt->key.dst[0] = ip->daddr;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6;

		parsed = studio_ipv6_ports(eth + 1, data_end, &ip6, &ports);
		if (parsed != STUDIO_PARSED)
			return parsed;
		pkt->family = AF_INET6;
		pkt->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
		pkt->l3_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		pkt->key.proto = ip6->nexthdr;
		__builtin_memcpy(pkt->key.src, &ip6->saddr, 16);
		__builtin_memcpy(pkt->key.dst, &ip6->daddr, 16);
	} else {
		return STUDIO_NOT_OURS;
	}
	pkt->key.sport = ports[0];
	pkt->key.dport = ports[1];
	return STUDIO_PARSED;
}

/* The index in vip_table of the VIP a packet is for: its own port first, then the address's every-port VIP. */
static __always_inline __u32 *find_vip(const struct packet *pkt)
{
	struct vip_key key = {
		.port = pkt->key.dport,
		.proto = pkt->key.proto,
		.family = pkt->family,
	};
	__u32 *index;

	__builtin_memcpy(key.addr, pkt->key.dst, sizeof(key.addr));
	index = bpf_map_lookup_elem(&vips, &key);
	if (index)
		return index;
	key.port = 0;
	return bpf_map_lookup_elem(&vips, &key);
}

static __always_inline bool vip_serves(const struct vip_meta *meta, const struct packet *pkt)
{
	const struct vip_key *vip = &meta->vip;

	return vip->family == pkt->family && vip->proto == pkt->key.proto &&
	       (vip->port == 0 || vip->port == pkt->key.dport) &&
	       vip->addr[0] == pkt->key.dst[0] && vip->addr[1] == pkt->key.dst[1] &&
	       vip->addr[2] == pkt->key.dst[2] && vip->addr[3] == pkt->key.dst[3];
}

static __always_inline struct backend *backend_up(__u32 id)
{
	struct backend *be = bpf_map_lookup_elem(&backends, &id);

	return be && (be->flags & BACKEND_F_UP) ? be : NULL;
}

/* An established flow's backend, while its VIP is still in vip_table and the backend is up. */
static __always_inline struct backend *pinned_backend(const struct flow_state *pinned, const struct packet *pkt)
{
	struct vip_meta *meta = bpf_map_lookup_elem(&vip_table, &pinned->vip);

	return meta && vip_serves(meta, pkt) ? backend_up(pinned->backend) : NULL;
}

/* A flow without a usable pin gets the ring's choice for its VIP, and is pinned to it. */
static __always_inline int assign(const struct packet *pkt, struct flow_state *state, struct backend **be)
{
	__u32 *index = find_vip(pkt);
	struct vip_meta *meta;
	__u32 slot, *from_ring;

	if (!index)
		return NOT_A_VIP;
	meta = bpf_map_lookup_elem(&vip_table, index);
	if (!meta)
		return NOT_A_VIP;
	state->vip = *index;
	state->hash = flow_hash(&pkt->key);
	slot = meta->ring * ring_size + state->hash % ring_size;
	from_ring = bpf_map_lookup_elem(&maglev_rings, &slot);
	if (!from_ring)
		return NO_BACKEND;
	*be = backend_up(*from_ring);
	if (!*be)
		return NO_BACKEND;
	state->backend = *from_ring;
	bpf_map_update_elem(&flows, &pkt->key, state, BPF_ANY);
	return ASSIGNED;
}

/* Grows the frame by an outer IP header to the backend and readdresses the Ethernet header. */
static __always_inline int encapsulate(struct xdp_md *ctx, const struct backend *be, const struct packet *pkt, __u32 hash)
{
	int outer_len = be->family == AF_INET6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	__u8 inner_proto = pkt->family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
	struct ethhdr *eth = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 our_mac[ETH_ALEN];

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(our_mac, eth->h_dest, ETH_ALEN);
	if (bpf_xdp_adjust_head(ctx, -outer_len))
		return XDP_DROP;
	eth = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if ((void *)(eth + 1) + sizeof(struct ipv6hdr) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, be->mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, our_mac, ETH_ALEN);
	if (be->family == AF_INET6) {
		struct ipv6hdr *o6 = (void *)(eth + 1);

		eth->h_proto = bpf_htons(ETH_P_IPV6);
		o6->version = 6;
		o6->priority = pkt->tos >> 4;
		o6->flow_lbl[0] = (pkt->tos << 4) | ((hash >> 16) & 0xf);
		o6->flow_lbl[1] = hash >> 8;
		o6->flow_lbl[2] = hash;
		o6->payload_len = bpf_htons(pkt->l3_len);
		o6->nexthdr = inner_proto;
		o6->hop_limit = ENCAP_TTL;
#pragma unroll
		for (int i = 0; i < 4; i++)
			o6->saddr.in6_u.u6_addr32[i] = encap_saddr6[i];
		__builtin_memcpy(&o6->daddr, be->addr, 16);
		return XDP_TX;
	}
	struct iphdr *o4 = (void *)(eth + 1);

	eth->h_proto = bpf_htons(ETH_P_IP);
	o4->version = 4;
	o4->ihl = 5;
	o4->tos = pkt->tos;
	o4->tot_len = bpf_htons(pkt->l3_len + sizeof(*o4));
	o4->id = 0;
	o4->frag_off = 0;
	o4->ttl = ENCAP_TTL;
	o4->protocol = inner_proto;
	o4->check = 0;
	o4->saddr = encap_saddr4;
	o4->daddr = be->addr[0];
	o4->check = studio_ipv4_csum(o4);
	return XDP_TX;
}

SEC("xdp")
int xdp_maglev_gateway(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flow_state *pinned, state;
	struct backend_stats *stats;
	struct backend *be = NULL;
	struct packet pkt = {};
	int parsed = parse(data, data_end, &pkt);

	if (parsed == STUDIO_FRAGMENT) {
		count(STAT_FRAGMENT);
		return XDP_PASS;
	}
	if (parsed != STUDIO_PARSED)
		return XDP_PASS;
	/* The flow table first: an established flow needs no VIP lookup and no hash. */
	pinned = bpf_map_lookup_elem(&flows, &pkt.key);
	if (pinned)
		be = pinned_backend(pinned, &pkt);
	if (be) {
		state = *pinned;
	} else {
		int assigned = assign(&pkt, &state, &be);

		if (assigned == NOT_A_VIP) {
			if (pinned)
				bpf_map_delete_elem(&flows, &pkt.key);
			return XDP_PASS;
		}
		if (assigned == NO_BACKEND) {
			count(STAT_NO_BACKEND);
			return XDP_DROP;
		}
		count(pinned ? STAT_REPINNED : STAT_NEW_FLOW);
	}
	if (pkt.l3_len + (be->family == AF_INET6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)) > mtu) {
		count(STAT_TOO_BIG);
		return XDP_DROP;
	}
	stats = bpf_map_lookup_elem(&backend_stats, &state.backend);
	if (stats) {
		stats->packets += 1;
		stats->bytes += pkt.l3_len;
	}
	return encapsulate(ctx, be, &pkt, state.hash);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
