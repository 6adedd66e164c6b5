import { ipAddressBytes } from './address';
import { defineStruct, StructWriter } from './struct-layout';

/**
 * cgroup-skb-policy's map layouts (bpf-templates/cgroup-skb-policy/cgroup-skb-policy.h is the source of
 * truth; test/template-packet-layouts.test.ts holds these against its BTF and #defines).
 */

export const SKB_MAX_RULES = 4096;
/** enum direction */
export const SKB_DIR = { ingress: 0, egress: 1 } as const;
/** enum action */
export const SKB_ACTION = { deny: 0, allow: 1 } as const;
/** rule_key.proto: 0 is every protocol. */
export const SKB_PROTO = { any: 0, icmp: 1, tcp: 6, udp: 17 } as const;
/** The prefix bits of dir, proto and port, before the address. */
export const SKB_KEY_HEAD_BITS = 32;

export const SKB_MAPS = { rules: 'rules', ruleStats: 'rule_stats', defaultStats: 'default_stats' } as const;

export const SKB_RULE_KEY = defineStruct('rule_key', 24, { prefixlen: [0, 4], dir: [4, 1], proto: [5, 1], port: [6, 2], addr: [8, 16] });
export const SKB_RULE = defineStruct('rule', 8, { id: [0, 4], action: [4, 4] });
export const SKB_RULE_STATS = defineStruct('rule_stats', 16, { packets: [0, 8], bytes: [8, 8] });

/** Every layout above, for the drift test. */
export const SKB_LAYOUTS = [SKB_RULE_KEY, SKB_RULE, SKB_RULE_STATS];

export interface RuleMatch {
  readonly direction: keyof typeof SKB_DIR;
  /** `10.0.0.0/8`, `2001:db8::/32` (the peer: the source on ingress, the destination on egress). */
  readonly cidr: string;
  readonly protocol: keyof typeof SKB_PROTO;
  /** Destination port; 0: every port. */
  readonly port: number;
}

/**
 * struct rule_key: dir, proto and port are the first 32 prefix bits; the address is IPv6, or IPv4 as
 * ::ffff:a.b.c.d (so an IPv4 /24 has prefixlen 32 + 96 + 24).
 */
export function encodeRuleKey(rule: RuleMatch): Uint8Array {
  const [host, bits] = rule.cidr.split('/') as [string, string | undefined];
  const ip = ipAddressBytes(host);
  if (!ip) throw new RangeError(`not a CIDR: ${rule.cidr}`);
  const length = bits === undefined ? ip.bytes.length * 8 : Number(bits);
  const addr = new Uint8Array(16);
  if (ip.family === 4) {
    addr[10] = 0xff;
    addr[11] = 0xff;
    addr.set(ip.bytes, 12);
  } else addr.set(ip.bytes);
  const prefixlen = SKB_KEY_HEAD_BITS + (ip.family === 4 ? 96 : 0) + length;
  return new StructWriter(SKB_RULE_KEY).u32('prefixlen', prefixlen).u8('dir', SKB_DIR[rule.direction]).u8('proto', SKB_PROTO[rule.protocol]).u16Be('port', rule.port).raw('addr', addr).bytes;
}

/** struct rule: its id (the index in rule_stats) and allow/deny. */
export function encodeRule(id: number, action: keyof typeof SKB_ACTION): Uint8Array {
  return new StructWriter(SKB_RULE).u32('id', id).u32('action', SKB_ACTION[action]).bytes;
}
