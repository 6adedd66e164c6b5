import { addressWords, ipAddressBytes, macBytes } from './address';
import { AF, IPPROTO } from './socket-lb-layout';
import { defineStruct, StructReader, StructWriter } from './struct-layout';

/**
 * xdp-maglev-gateway's map layouts (bpf-templates/xdp-maglev-gateway/xdp-maglev-gateway.h is the source
 * of truth; test/template-packet-layouts.test.ts holds these against its BTF and #defines). Addresses
 * and ports in network byte order (an IPv4 address in the first 4 of 16 bytes), other numbers little-endian.
 */

export const GW_MAX_VIPS = 64;
export const GW_MAX_BACKENDS = 1024;
export const GW_MAX_FLOWS = 65536;
export const GW_RING_ENTRIES = 16 * 65537;
export const GW_NO_BACKEND = 0xffffffff;
export const GW_BACKEND_UP = 1;
/** enum gateway_stat: the indexes of gateway_stats. */
export const GW_STAT = { newFlow: 0, repinned: 1, noBackend: 2, fragment: 3, tooBig: 4 } as const;
export const GW_STAT_MAX = 5;

export const GW_MAPS = {
  vips: 'vips', vipTable: 'vip_table', rings: 'maglev_rings', backends: 'backends', flows: 'flows', backendStats: 'backend_stats', stats: 'gateway_stats',
} as const;

export const VIP_KEY = defineStruct('vip_key', 20, { addr: [0, 16], port: [16, 2], proto: [18, 1], family: [19, 1] });
export const VIP_META = defineStruct('vip_meta', 24, { vip: [0, 20], ring: [20, 4] });
export const FLOW_KEY = defineStruct('flow_key', 40, { src: [0, 16], dst: [16, 16], sport: [32, 2], dport: [34, 2], proto: [36, 1], pad: [37, 3] });
export const FLOW_STATE = defineStruct('flow_state', 12, { backend: [0, 4], hash: [4, 4], vip: [8, 4] });
export const GW_BACKEND = defineStruct('backend', 24, { addr: [0, 16], mac: [16, 6], family: [22, 1], flags: [23, 1] });
export const GW_BACKEND_STATS = defineStruct('backend_stats', 16, { packets: [0, 8], bytes: [8, 8] });

/** Every layout above, for the drift test. */
export const GW_LAYOUTS = [VIP_KEY, VIP_META, FLOW_KEY, FLOW_STATE, GW_BACKEND, GW_BACKEND_STATS];

const familyOf = (addr: string): number => AF[ipAddressBytes(addr)?.family ?? 4];

export function u32Bytes(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
}

/** struct vip_key: `port` 0 means every port of the address. */
export function encodeVipKey(addr: string, port: number, proto: keyof typeof IPPROTO): Uint8Array {
  return new StructWriter(VIP_KEY).raw('addr', addressWords(addr)).u16Be('port', port).u8('proto', IPPROTO[proto]).u8('family', familyOf(addr)).bytes;
}

/** struct vip_meta: the VIP's key and its ring in maglev_rings. */
export function encodeVipMeta(key: Uint8Array, ring: number): Uint8Array {
  return new StructWriter(VIP_META).raw('vip', key).u32('ring', ring).bytes;
}

export function decodeVipMeta(bytes: Uint8Array): { key: Uint8Array; ring: number } {
  const r = new StructReader(VIP_META, bytes);
  return { key: r.raw('vip'), ring: r.u32('ring') };
}

/** struct backend: a gateway's address (the outer destination), its next-hop MAC and the up flag. */
export function encodeGatewayBackend(addr: string, mac: string, up = true): Uint8Array {
  const macRaw = macBytes(mac);
  if (!macRaw) throw new RangeError(`not a MAC address: ${mac}`);
  return new StructWriter(GW_BACKEND).raw('addr', addressWords(addr)).raw('mac', macRaw).u8('family', familyOf(addr)).u8('flags', up ? GW_BACKEND_UP : 0).bytes;
}

/** The 16 address bytes and family of a struct backend (all zero: an unused slot). */
export function decodeGatewayBackend(bytes: Uint8Array): { addr: Uint8Array; family: number; up: boolean } {
  const r = new StructReader(GW_BACKEND, bytes);
  return { addr: r.raw('addr'), family: r.u8('family'), up: (r.u8('flags') & GW_BACKEND_UP) !== 0 };
}

/** struct flow_key: what the program hashes (flowHash) and pins. */
export function encodeFlowKey(src: string, dst: string, sport: number, dport: number, proto: keyof typeof IPPROTO): Uint8Array {
  return new StructWriter(FLOW_KEY).raw('src', addressWords(src)).raw('dst', addressWords(dst)).u16Be('sport', sport).u16Be('dport', dport).u8('proto', IPPROTO[proto]).bytes;
}

/** maglev_rings' key of one slot of a ring. */
export function ringSlotKey(ring: number, ringSize: number, slot: number): Uint8Array {
  return u32Bytes(ring * ringSize + slot);
}

/** Keys and values of a whole ring, for a batch update: `table[slot]` at `ring × ringSize + slot`. */
export function encodeRing(ring: number, table: Uint32Array): { keys: Uint8Array; values: Uint8Array } {
  const keys = new Uint8Array(table.length * 4);
  const values = new Uint8Array(table.length * 4);
  const k = new DataView(keys.buffer);
  const v = new DataView(values.buffer);
  for (let i = 0; i < table.length; i++) {
    k.setUint32(i * 4, ring * table.length + i, true);
    v.setUint32(i * 4, table[i]!, true);
  }
  return { keys, values };
}
