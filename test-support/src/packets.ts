import { isIPv4, isIPv6 } from 'node:net';

/**
 * Frames for BPF_PROG_TEST_RUN: Ethernet / IPv4 / IPv6 / TCP / UDP with correct checksums, IP-in-IP
 * encapsulation (the four combinations of IPv4 and IPv6), and a parser that recomputes every checksum
 * of a frame (outer and inner headers) so a test can check what a program wrote.
 */

export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;

export interface TcpFlags {
  fin?: boolean;
  syn?: boolean;
  rst?: boolean;
  psh?: boolean;
  ack?: boolean;
}

export interface PacketSpec {
  /** IPv4 or IPv6 literals, both of the same family. */
  src: string;
  dst: string;
  proto: 'tcp' | 'udp';
  sport: number;
  dport: number;
  payload?: Uint8Array;
  /** TCP only; default a SYN. */
  flags?: TcpFlags;
  seq?: number;
  ack?: number;
  /** IPv4 TTL / IPv6 hop limit; default 64. */
  ttl?: number;
  /** IPv4 TOS / IPv6 traffic class. */
  tos?: number;
  /** IPv4 identification. */
  id?: number;
  /** IPv4 options (a multiple of 4 bytes). */
  ipOptions?: Uint8Array;
  /** IPv4 fragment offset in 8-byte units and the more-fragments flag. */
  fragmentOffset?: number;
  moreFragments?: boolean;
  /** UDP only: send a zero checksum (allowed for IPv4). */
  udpChecksumZero?: boolean;
}

export interface FrameSpec extends PacketSpec {
  srcMac?: string;
  dstMac?: string;
}

export interface OuterSpec {
  src: string;
  dst: string;
  ttl?: number;
  tos?: number;
  id?: number;
  flowLabel?: number;
}

const DEFAULT_SRC_MAC = '02:00:00:00:00:01';
const DEFAULT_DST_MAC = '02:00:00:00:00:02';

export function macBytes(mac: string): Uint8Array {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`not a MAC address: ${mac}`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** 4 bytes for an IPv4 literal, 16 for an IPv6 literal (`::` and an embedded IPv4 tail allowed). */
export function ipBytes(address: string): Uint8Array {
  if (isIPv4(address)) return Uint8Array.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new Error(`not an IP address: ${address}`);
  let text = address;
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    const [a, b, c, d] = ipBytes(v4Tail[1]!);
    text = `${text.slice(0, v4Tail.index)}${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = groups(tail);
  const words = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const words = Array.from({ length: 8 }, (_, i) => ((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!).toString(16));
  // The WHATWG URL parser writes IPv6 hosts in RFC 5952's canonical form.
  return new URL(`http://[${words.join(':')}]/`).hostname.slice(1, -1);
}

/** The Internet checksum's one's-complement sum (not yet inverted) of `bytes`, starting from `initial`. */
export function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** RFC 1071: the checksum to store in a header whose checksum field is zero. */
export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  return ~onesComplementSum(bytes, initial) & 0xffff;
}

function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, proto: number, length: number): number {
  const pseudo = new Uint8Array(src.length * 2 + (src.length === 4 ? 4 : 8));
  const view = new DataView(pseudo.buffer);
  pseudo.set(src, 0);
  pseudo.set(dst, src.length);
  if (src.length === 4) {
    view.setUint8(9, proto);
    view.setUint16(10, length);
  } else {
    view.setUint32(32, length);
    view.setUint8(39, proto);
  }
  return onesComplementSum(pseudo);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function transport(spec: PacketSpec, src: Uint8Array, dst: Uint8Array): Uint8Array {
  const payload = spec.payload ?? new Uint8Array(0);
  const tcp = spec.proto === 'tcp';
  const header = new Uint8Array(tcp ? 20 : 8);
  const view = new DataView(header.buffer);
  view.setUint16(0, spec.sport);
  view.setUint16(2, spec.dport);
  if (tcp) {
    const f = spec.flags ?? { syn: true };
    view.setUint32(4, spec.seq ?? 1000);
    view.setUint32(8, spec.ack ?? 0);
    view.setUint8(12, 5 << 4);
    view.setUint8(13, (f.fin ? 1 : 0) | (f.syn ? 2 : 0) | (f.rst ? 4 : 0) | (f.psh ? 8 : 0) | (f.ack ? 16 : 0));
    view.setUint16(14, 65535);
  } else {
    view.setUint16(4, header.length + payload.length);
  }
  const segment = concat(header, payload);
  if (spec.udpChecksumZero && !tcp) return segment;
  const proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
  const csum = internetChecksum(segment, pseudoHeaderSum(src, dst, proto, segment.length));
  new DataView(segment.buffer).setUint16(tcp ? 16 : 6, !tcp && csum === 0 ? 0xffff : csum);
  return segment;
}

export function ipv4Header(fields: { src: Uint8Array; dst: Uint8Array; proto: number; payloadLength: number; ttl?: number; tos?: number; id?: number; options?: Uint8Array; fragmentOffset?: number; moreFragments?: boolean }): Uint8Array {
  const options = fields.options ?? new Uint8Array(0);
  if (options.length % 4 !== 0) throw new Error('IPv4 options must be a multiple of 4 bytes');
  const header = new Uint8Array(20 + options.length);
  const view = new DataView(header.buffer);
  view.setUint8(0, 0x40 | (header.length / 4));
  view.setUint8(1, fields.tos ?? 0);
  view.setUint16(2, header.length + fields.payloadLength);
  view.setUint16(4, fields.id ?? 0);
  view.setUint16(6, ((fields.moreFragments ? 1 : 0) << 13) | (fields.fragmentOffset ?? 0));
  view.setUint8(8, fields.ttl ?? 64);
  view.setUint8(9, fields.proto);
  header.set(fields.src, 12);
  header.set(fields.dst, 16);
  header.set(options, 20);
  view.setUint16(10, internetChecksum(header));
  return header;
}

export function ipv6Header(fields: { src: Uint8Array; dst: Uint8Array; nextHeader: number; payloadLength: number; hopLimit?: number; trafficClass?: number; flowLabel?: number }): Uint8Array {
  const header = new Uint8Array(40);
  const view = new DataView(header.buffer);
  view.setUint32(0, ((6 << 28) | ((fields.trafficClass ?? 0) << 20) | ((fields.flowLabel ?? 0) & 0xfffff)) >>> 0);
  view.setUint16(4, fields.payloadLength);
  view.setUint8(6, fields.nextHeader);
  view.setUint8(7, fields.hopLimit ?? 64);
  header.set(fields.src, 8);
  header.set(fields.dst, 24);
  return header;
}

/** An IP packet (no Ethernet header): IPv4 or IPv6 by the addresses' family, with TCP or UDP inside. */
export function buildPacket(spec: PacketSpec): Uint8Array {
  const src = ipBytes(spec.src);
  const dst = ipBytes(spec.dst);
  if (src.length !== dst.length) throw new Error(`${spec.src} and ${spec.dst} are of different families`);
  const segment = transport(spec, src, dst);
  const proto = spec.proto === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP;
  const header = src.length === 4
    ? ipv4Header({ src, dst, proto, payloadLength: segment.length, ttl: spec.ttl, tos: spec.tos, id: spec.id, options: spec.ipOptions, fragmentOffset: spec.fragmentOffset, moreFragments: spec.moreFragments })
    : ipv6Header({ src, dst, nextHeader: proto, payloadLength: segment.length, hopLimit: spec.ttl, trafficClass: spec.tos });
  return concat(header, segment);
}

export function ethernet(dstMac: string, srcMac: string, etherType: number, payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(14);
  header.set(macBytes(dstMac), 0);
  header.set(macBytes(srcMac), 6);
  new DataView(header.buffer).setUint16(12, etherType);
  return concat(header, payload);
}

function etherTypeOf(l3: Uint8Array): number {
  return l3[0]! >> 4 === 6 ? ETH_P_IPV6 : ETH_P_IP;
}

/** An Ethernet frame around buildPacket(spec). */
export function buildFrame(spec: FrameSpec): Uint8Array {
  const packet = buildPacket(spec);
  return ethernet(spec.dstMac ?? DEFAULT_DST_MAC, spec.srcMac ?? DEFAULT_SRC_MAC, etherTypeOf(packet), packet);
}

/** The IP packet `inner` inside an outer IPv4 or IPv6 header (protocol 4 or 41 by the inner family). */
export function encapsulate(inner: Uint8Array, outer: OuterSpec): Uint8Array {
  const src = ipBytes(outer.src);
  const dst = ipBytes(outer.dst);
  const proto = etherTypeOf(inner) === ETH_P_IPV6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
  const header = src.length === 4
    ? ipv4Header({ src, dst, proto, payloadLength: inner.length, ttl: outer.ttl, tos: outer.tos, id: outer.id })
    : ipv6Header({ src, dst, nextHeader: proto, payloadLength: inner.length, hopLimit: outer.ttl, trafficClass: outer.tos, flowLabel: outer.flowLabel });
  return concat(header, inner);
}

/** An Ethernet frame around an IP packet. */
export function frameOf(packet: Uint8Array, dstMac = DEFAULT_DST_MAC, srcMac = DEFAULT_SRC_MAC): Uint8Array {
  return ethernet(dstMac, srcMac, etherTypeOf(packet), packet);
}

export interface IpLayer {
  version: 4 | 6;
  /** Offset of the IP header in the frame. */
  offset: number;
  headerLength: number;
  src: string;
  dst: string;
  /** IPv4 protocol / IPv6 next header. */
  proto: number;
  ttl: number;
  tos: number;
  /** IPv6 flow label (0 for IPv4). */
  flowLabel: number;
  /** IPv4 total length or 40 + IPv6 payload length. */
  totalLength: number;
  fragmented: boolean;
}

export interface L4Layer {
  proto: 'tcp' | 'udp';
  offset: number;
  sport: number;
  dport: number;
  /** TCP flags byte (0 for UDP). */
  flags: number;
  checksum: number;
}

export interface ParsedFrame {
  dstMac: string;
  srcMac: string;
  etherType: number;
  /** Outermost first: one entry, or two for IP-in-IP. */
  ip: IpLayer[];
  l4?: L4Layer;
  /** Every checksum that does not verify, and every length that does not add up; empty when all is well. */
  problems: string[];
}

function parseIp(frame: Uint8Array, offset: number, problems: string[]): IpLayer | undefined {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const version = frame[offset]! >> 4;
  if (version === 4) {
    const headerLength = (frame[offset]! & 0x0f) * 4;
    if (headerLength < 20 || offset + headerLength > frame.length) {
      problems.push(`IPv4 header at ${offset}: bad length ${headerLength}`);
      return undefined;
    }
    const header = frame.subarray(offset, offset + headerLength);
    if (onesComplementSum(header) !== 0xffff) problems.push(`IPv4 header checksum at ${offset + 10} is 0x${view.getUint16(offset + 10).toString(16)}, the header sums to 0x${onesComplementSum(header).toString(16)} (want 0xffff)`);
    const totalLength = view.getUint16(offset + 2);
    if (offset + totalLength > frame.length) problems.push(`IPv4 total length ${totalLength} at ${offset} runs past the frame (${frame.length} bytes)`);
    return {
      version: 4, offset, headerLength, totalLength,
      src: formatIp(frame.subarray(offset + 12, offset + 16)), dst: formatIp(frame.subarray(offset + 16, offset + 20)),
      proto: frame[offset + 9]!, ttl: frame[offset + 8]!, tos: frame[offset + 1]!, flowLabel: 0,
      fragmented: (view.getUint16(offset + 6) & 0x3fff) !== 0,
    };
  }
  if (version === 6) {
    if (offset + 40 > frame.length) {
      problems.push(`IPv6 header at ${offset} is cut short`);
      return undefined;
    }
    const first = view.getUint32(offset);
    const totalLength = 40 + view.getUint16(offset + 4);
    if (offset + totalLength > frame.length) problems.push(`IPv6 payload length at ${offset} runs past the frame`);
    return {
      version: 6, offset, headerLength: 40, totalLength,
      src: formatIp(frame.subarray(offset + 8, offset + 24)), dst: formatIp(frame.subarray(offset + 24, offset + 40)),
      proto: frame[offset + 6]!, ttl: frame[offset + 7]!, tos: (first >>> 20) & 0xff, flowLabel: first & 0xfffff, fragmented: false,
    };
  }
  problems.push(`no IP header at ${offset} (version ${version})`);
  return undefined;
}

function parseL4(frame: Uint8Array, ip: IpLayer, problems: string[]): L4Layer | undefined {
  if (ip.proto !== IPPROTO_TCP && ip.proto !== IPPROTO_UDP) return undefined;
  const tcp = ip.proto === IPPROTO_TCP;
  const offset = ip.offset + ip.headerLength;
  const end = Math.min(ip.offset + ip.totalLength, frame.length);
  if (offset + (tcp ? 20 : 8) > end) {
    problems.push(`${tcp ? 'TCP' : 'UDP'} header at ${offset} is cut short`);
    return undefined;
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segment = frame.subarray(offset, end);
  const checksum = view.getUint16(offset + (tcp ? 16 : 6));
  const zeroUdp = !tcp && checksum === 0 && ip.version === 4;
  if (!ip.fragmented && !zeroUdp) {
    const src = ipBytes(ip.src);
    const dst = ipBytes(ip.dst);
    const sum = onesComplementSum(segment, pseudoHeaderSum(src, dst, ip.proto, segment.length));
    if (sum !== 0xffff) problems.push(`${tcp ? 'TCP' : 'UDP'} checksum at ${offset + (tcp ? 16 : 6)} is 0x${checksum.toString(16)}, the segment and pseudo-header sum to 0x${sum.toString(16)} (want 0xffff)`);
  }
  if (!tcp && view.getUint16(offset + 4) !== segment.length) problems.push(`UDP length ${view.getUint16(offset + 4)} at ${offset + 4}, the datagram has ${segment.length} bytes`);
  return { proto: tcp ? 'tcp' : 'udp', offset, sport: view.getUint16(offset), dport: view.getUint16(offset + 2), flags: tcp ? frame[offset + 13]! : 0, checksum };
}

/** Parses an Ethernet frame down to TCP/UDP (through IP-in-IP) and verifies every checksum on the way. */
export function parseFrame(frame: Uint8Array): ParsedFrame {
  const problems: string[] = [];
  if (frame.length < 14) return { dstMac: '', srcMac: '', etherType: 0, ip: [], problems: [`a ${frame.length}-byte frame has no Ethernet header`] };
  const etherType = (frame[12]! << 8) | frame[13]!;
  const parsed: ParsedFrame = { dstMac: formatMac(frame.subarray(0, 6)), srcMac: formatMac(frame.subarray(6, 12)), etherType, ip: [], problems };
  if (etherType !== ETH_P_IP && etherType !== ETH_P_IPV6) return parsed;
  let ip = parseIp(frame, 14, problems);
  if (ip && (ip.version === 4) !== (etherType === ETH_P_IP)) problems.push(`EtherType 0x${etherType.toString(16)} carries an IPv${ip.version} header`);
  while (ip) {
    parsed.ip.push(ip);
    if ((ip.proto !== IPPROTO_IPIP && ip.proto !== IPPROTO_IPV6) || parsed.ip.length > 4) break;
    const inner = parseIp(frame, ip.offset + ip.headerLength, problems);
    if (inner && (inner.version === 4) !== (ip.proto === IPPROTO_IPIP)) problems.push(`protocol ${ip.proto} at ${ip.offset} carries an IPv${inner.version} packet`);
    if (inner && inner.offset + inner.totalLength !== ip.offset + ip.totalLength) problems.push(`the inner packet at ${inner.offset} (${inner.totalLength} bytes) does not fill the outer payload`);
    ip = inner;
  }
  const innermost = parsed.ip[parsed.ip.length - 1];
  const l4 = innermost && parseL4(frame, innermost, problems);
  if (l4) parsed.l4 = l4;
  return parsed;
}

/** The checksum and length problems of a frame (empty when every checksum verifies). */
export function checksumProblems(frame: Uint8Array): string[] {
  return parseFrame(frame).problems;
}
