import { ipAddressBytes } from './address';
import { IPPROTO } from './socket-lb-layout';
import { defineStruct, StructReader, StructWriter } from './struct-layout';

/**
 * tc-cluster-nat's map layouts (bpf-templates/tc-cluster-nat/tc-cluster-nat.h is the source of truth;
 * test/template-packet-layouts.test.ts holds these against its BTF and #defines). IPv4 only; addresses
 * and ports in network byte order, other numbers little-endian.
 */

export const NAT_MAX_SERVICES = 256;
export const NAT_MAX_BACKENDS = 1024;
export const NAT_MAX_CONNECTIONS = 65536;
export const NAT_RING_ENTRIES = 32 * 4099;
export const NAT_SNAT_PORT_TRIES = 8;
export const NAT_BACKEND_UP = 1;
/** enum ct_dir */
export const CT_DIR = { forward: 0, reply: 1 } as const;
/** enum nat_stat: the indexes of nat_stats. */
export const NAT_STAT = { newConnection: 0, noBackend: 1, noPort: 2 } as const;
export const NAT_STAT_MAX = 3;

export const NAT_MAPS = { services: 'services', rings: 'nat_rings', backends: 'nat_backends', conntrack: 'conntrack', stats: 'nat_stats' } as const;

export const NAT_SERVICE_KEY = defineStruct('service_key', 8, { vip: [0, 4], port: [4, 2], proto: [6, 1], pad: [7, 1] });
export const NAT_SERVICE = defineStruct('service', 4, { ring: [0, 4] });
export const NAT_BACKEND = defineStruct('nat_backend', 8, { addr: [0, 4], port: [4, 2], flags: [6, 1], pad: [7, 1] });
export const CT_KEY = defineStruct('ct_key', 16, { saddr: [0, 4], daddr: [4, 4], sport: [8, 2], dport: [10, 2], proto: [12, 1], dir: [13, 1], pad: [14, 2] });
export const CT_NAT = defineStruct('ct_nat', 12, { saddr: [0, 4], daddr: [4, 4], sport: [8, 2], dport: [10, 2] });

/** Every layout above, for the drift test. */
export const NAT_LAYOUTS = [NAT_SERVICE_KEY, NAT_SERVICE, NAT_BACKEND, CT_KEY, CT_NAT];

function ipv4(addr: string): Uint8Array {
  const ip = ipAddressBytes(addr);
  if (ip?.family !== 4) throw new RangeError(`tc-cluster-nat translates IPv4 only: ${addr}`);
  return ip.bytes;
}

/** struct service_key */
export function encodeNatServiceKey(vip: string, port: number, proto: keyof typeof IPPROTO): Uint8Array {
  return new StructWriter(NAT_SERVICE_KEY).raw('vip', ipv4(vip)).u16Be('port', port).u8('proto', IPPROTO[proto]).bytes;
}

/** struct service: the service's ring in nat_rings. */
export function encodeNatService(ring: number): Uint8Array {
  return new StructWriter(NAT_SERVICE).u32('ring', ring).bytes;
}

export function decodeNatService(bytes: Uint8Array): number {
  return new StructReader(NAT_SERVICE, bytes).u32('ring');
}

/** struct nat_backend */
export function encodeNatBackend(addr: string, port: number, up = true): Uint8Array {
  return new StructWriter(NAT_BACKEND).raw('addr', ipv4(addr)).u16Be('port', port).u8('flags', up ? NAT_BACKEND_UP : 0).bytes;
}

/** A nat_backend's `a.b.c.d:port` (undefined for an unused, all-zero slot) and its up flag. */
export function decodeNatBackend(bytes: Uint8Array): { text?: string; up: boolean } {
  const r = new StructReader(NAT_BACKEND, bytes);
  const addr = r.raw('addr');
  const port = r.u16Be('port');
  const up = (r.u8('flags') & NAT_BACKEND_UP) !== 0;
  return addr.every((b) => b === 0) && port === 0 ? { up } : { text: `${[...addr].join('.')}:${port}`, up };
}

/** struct ct_key of a packet as a program sees it (also flow_hash()'s input, with dir CT_FORWARD). */
export function encodeCtKey(saddr: string, daddr: string, sport: number, dport: number, proto: keyof typeof IPPROTO, dir: keyof typeof CT_DIR): Uint8Array {
  return new StructWriter(CT_KEY).raw('saddr', ipv4(saddr)).raw('daddr', ipv4(daddr)).u16Be('sport', sport).u16Be('dport', dport).u8('proto', IPPROTO[proto]).u8('dir', CT_DIR[dir]).bytes;
}
