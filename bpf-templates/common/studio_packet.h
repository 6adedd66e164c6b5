/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Packet parsing the packet-level templates share: bounds-checked views of the Ethernet, IPv4, IPv6 and
 * TCP/UDP port headers of a frame between data and data_end (XDP or tc), the IPv4 header checksum, and
 * the murmur3 flow hash that ebpf-studio's flowHash() mirrors.
 */
#ifndef STUDIO_PACKET_H
#define STUDIO_PACKET_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* frag_off bits (netinet/ip.h; linux/ip.h does not define them). */
#ifndef IP_MF
#define IP_MF		0x2000
#endif
#ifndef IP_OFFSET
#define IP_OFFSET	0x1fff
#endif

/* What studio_ipv4_ports() / studio_ipv6_ports() found. */
enum studio_parse_result {
	STUDIO_PARSED,		/* a TCP or UDP packet whose ports are in the frame */
	STUDIO_NOT_OURS,	/* too short, another protocol, or a malformed header */
	STUDIO_FRAGMENT,	/* an IPv4 fragment (the first one included): no ports to rely on */
};

/* Each parser checks its header lies inside the frame (before data_end) and only then hands it back
 * through its last argument, so reads through that pointer pass the verifier. They answer true/false
 * rather than a NULL pointer: a NULL test of a packet pointer costs an instruction and is a pointer
 * comparison the verifier refuses to loaders without CAP_PERFMON. */

/* The frame's Ethernet header. */
static __always_inline bool studio_eth(void *data, void *data_end, struct ethhdr **eth)
{
	if (data + sizeof(**eth) > data_end)
		return false;
	*eth = data;
	return true;
}

/* The IPv4 header at l3: its fixed 20 bytes in the frame, IHL ≥ 5 (options are not checked). */
static __always_inline bool studio_ipv4(void *l3, void *data_end, struct iphdr **ip)
{
	struct iphdr *h = l3;

	if ((void *)(h + 1) > data_end || h->ihl < 5)
		return false;
	*ip = h;
	return true;
}

/* The IPv6 fixed header at l3 (extension headers are not walked). */
static __always_inline bool studio_ipv6(void *l3, void *data_end, struct ipv6hdr **ip6)
{
	if (l3 + sizeof(**ip6) > data_end)
		return false;
	*ip6 = l3;
	return true;
}

/* The source and destination ports (network order) that start a TCP or UDP header at l4. */
static __always_inline bool studio_ports(void *l4, void *data_end, __be16 **ports)
{
	if (l4 + 2 * sizeof(**ports) > data_end)
		return false;
	*ports = l4;
	return true;
}

/* TCP and UDP: the protocols whose header starts with the two ports. */
static __always_inline bool studio_has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/* An IPv4 fragment, the first one included: MF set or a non-zero offset. */
static __always_inline bool studio_ipv4_is_fragment(const struct iphdr *ip)
{
	return ip->frag_off & bpf_htons(IP_MF | IP_OFFSET);
}

/* An unfragmented IPv4 TCP/UDP packet at l3: its header in *ip and its ports (past any IP options) in
 * *ports. Checked in this order: header, protocol, fragment, ports. */
static __always_inline int studio_ipv4_ports(void *l3, void *data_end, struct iphdr **ip, __be16 **ports)
{
	if (!studio_ipv4(l3, data_end, ip) || !studio_has_ports((*ip)->protocol))
		return STUDIO_NOT_OURS;
	if (studio_ipv4_is_fragment(*ip))
		return STUDIO_FRAGMENT;
	return studio_ports(l3 + (*ip)->ihl * 4, data_end, ports) ? STUDIO_PARSED : STUDIO_NOT_OURS;
}

/* An IPv6 packet at l3 whose next header is TCP or UDP: its header in *ip6 and its ports in *ports. */
static __always_inline int studio_ipv6_ports(void *l3, void *data_end, struct ipv6hdr **ip6, __be16 **ports)
{
	if (!studio_ipv6(l3, data_end, ip6) || !studio_has_ports((*ip6)->nexthdr))
		return STUDIO_NOT_OURS;
	return studio_ports(*ip6 + 1, data_end, ports) ? STUDIO_PARSED : STUDIO_NOT_OURS;
}

/* The header checksum of an IPv4 header without options (ihl 5), computed with its check field zero. */
static __always_inline __u16 studio_ipv4_csum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < sizeof(*ip) / 2; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static __always_inline __u32 studio_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

/* murmur3_x86_32 over a key of whole 32-bit words (size in bytes, a constant); ebpf-studio's flowHash()
 * gives the same for the same bytes and seed (buildMaglevTable's rings are indexed with it). */
static __always_inline __u32 studio_flow_hash(const void *key, const __u32 size, __u32 seed)
{
	const __u32 *w = key;
	__u32 h = seed;

#pragma unroll
	for (int i = 0; i < size / 4; i++) {
		__u32 k = w[i] * 0xcc9e2d51;

		k = studio_rotl32(k, 15) * 0x1b873593;
		h = studio_rotl32(h ^ k, 13) * 5 + 0xe6546b64;
	}
	h ^= size;
	h = (h ^ (h >> 16)) * 0x85ebca6b;
	h = (h ^ (h >> 13)) * 0xc2b2ae35;
	return h ^ (h >> 16);
}

#endif /* STUDIO_PACKET_H */
