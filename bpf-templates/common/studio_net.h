/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Socket constants and address helpers the templates share. The uapi headers a BPF compile sees
 * (linux/bpf.h, linux/in.h) do not define the AF_* values (glibc does), so they are spelled here.
 */
#ifndef STUDIO_NET_H
#define STUDIO_NET_H

#include <linux/types.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif
#ifndef SOL_IP
#define SOL_IP 0
#endif
/* netfilter's getsockopt for the pre-NAT destination (linux/netfilter_ipv4.h). */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif

/* 127.0.0.0/8, with the address in network byte order. */
static __always_inline int studio_is_loopback4(__u32 addr_be)
{
	return (bpf_ntohl(addr_be) >> 24) == 127;
}

/* ::1, with the address as four network-order words. */
static __always_inline int studio_is_loopback6(const __u32 addr_be[4])
{
	return addr_be[0] == 0 && addr_be[1] == 0 && addr_be[2] == 0 && addr_be[3] == bpf_htonl(1);
}

#endif /* STUDIO_NET_H */
