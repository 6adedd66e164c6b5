import { formatSocketAddress, type Family, type SocketAddress } from './address';
import { defineStruct, StructReader, StructWriter } from './struct-layout';

/**
 * clusterset-socket-lb's map layouts (bpf-templates/clusterset-socket-lb/clusterset-socket-lb.h is the
 * source of truth; test/template-socket-lb-layout.test.ts holds these against its BTF and #defines).
 */

export const LB_MAX_CLUSTERS = 8;
export const LB_MAX_SERVICES = 1024;
export const LB_MODE = { weighted: 0, ordered: 1 } as const;
export const LB_CLUSTER_FLAGS = { healthy: 1, viaGateway: 2 } as const;
/** The cluster id under which lb_stats counts connects and datagrams that found no healthy backend. */
export const LB_CLUSTER_NONE = 0;
export const AF = { 4: 2, 6: 10 } as const;
export const IPPROTO = { tcp: 6, udp: 17 } as const;

export const LB_MAPS = { services: 'lb_services', backends: 'lb_backends', reverse: 'lb_reverse', stats: 'lb_stats' } as const;

export const LB_ENDPOINT = defineStruct('lb_endpoint', 20, { addr: [0, 16], port: [16, 2], family: [18, 1], pad: [19, 1] });
export const LB_SERVICE_KEY = defineStruct('lb_service_key', 20, { addr: [0, 16], port: [16, 2], family: [18, 1], proto: [19, 1] });
export const LB_CLUSTER_SLOT = defineStruct('lb_cluster_slot', 16, { cluster_id: [0, 4], weight: [4, 4], backend_count: [8, 4], flags: [12, 4] });
export const LB_SERVICE = defineStruct('lb_service', 8 + LB_MAX_CLUSTERS * 16, { service_id: [0, 4], mode: [4, 1], cluster_count: [5, 1], pad: [6, 2], clusters: [8, LB_MAX_CLUSTERS * 16] });
export const LB_BACKEND_KEY = defineStruct('lb_backend_key', 12, { service_id: [0, 4], cluster_id: [4, 4], index: [8, 4] });
export const LB_REVERSE_KEY = defineStruct('lb_reverse_key', 32, { cookie: [0, 8], backend: [8, 20], pad: [28, 4] });
export const LB_STATS_KEY = defineStruct('lb_stats_key', 8, { service_id: [0, 4], cluster_id: [4, 4] });
export const LB_COUNTERS = defineStruct('lb_counters', 16, { connects: [0, 8], datagrams: [8, 8] });
export const STUDIO_EVENT_HEADER = defineStruct('studio_event_header', 16, { ts_ns: [0, 8], type: [8, 4], size: [12, 4] });
export const LB_EVENT = defineStruct('lb_event', 80, {
  hdr: [0, 16], cookie: [16, 8], service_id: [24, 4], cluster_id: [28, 4], hook: [32, 4], pad: [36, 4], vip: [40, 20], backend: [60, 20],
});

/** Every layout above, for the drift test. */
export const LB_LAYOUTS = [LB_ENDPOINT, LB_SERVICE_KEY, LB_CLUSTER_SLOT, LB_SERVICE, LB_BACKEND_KEY, LB_REVERSE_KEY, LB_STATS_KEY, LB_COUNTERS, STUDIO_EVENT_HEADER, LB_EVENT];

export interface ClusterSlot {
  readonly clusterId: number;
  readonly weight: number;
  readonly backendCount: number;
  readonly healthy: boolean;
  readonly viaGateway: boolean;
}

export function encodeEndpoint(address: SocketAddress): Uint8Array {
  return new StructWriter(LB_ENDPOINT).raw('addr', address.bytes).u16Be('port', address.port).u8('family', AF[address.family]).bytes;
}

export function encodeServiceKey(vip: SocketAddress, protocol: keyof typeof IPPROTO): Uint8Array {
  return new StructWriter(LB_SERVICE_KEY).raw('addr', vip.bytes).u16Be('port', vip.port).u8('family', AF[vip.family]).u8('proto', IPPROTO[protocol]).bytes;
}

export function encodeService(serviceId: number, mode: keyof typeof LB_MODE, slots: readonly ClusterSlot[]): Uint8Array {
  if (slots.length > LB_MAX_CLUSTERS) throw new Error(`a service has at most ${LB_MAX_CLUSTERS} clusters, got ${slots.length}`);
  const table = new Uint8Array(LB_MAX_CLUSTERS * LB_CLUSTER_SLOT.size);
  slots.forEach((s, i) => {
    const flags = (s.healthy ? LB_CLUSTER_FLAGS.healthy : 0) | (s.viaGateway ? LB_CLUSTER_FLAGS.viaGateway : 0);
    const slot = new StructWriter(LB_CLUSTER_SLOT).u32('cluster_id', s.clusterId).u32('weight', s.weight).u32('backend_count', s.backendCount).u32('flags', flags);
    table.set(slot.bytes, i * LB_CLUSTER_SLOT.size);
  });
  return new StructWriter(LB_SERVICE).u32('service_id', serviceId).u8('mode', LB_MODE[mode]).u8('cluster_count', slots.length).raw('clusters', table).bytes;
}

export function encodeBackendKey(serviceId: number, clusterId: number, index: number): Uint8Array {
  return new StructWriter(LB_BACKEND_KEY).u32('service_id', serviceId).u32('cluster_id', clusterId).u32('index', index).bytes;
}

export function encodeStatsKey(serviceId: number, clusterId: number): Uint8Array {
  return new StructWriter(LB_STATS_KEY).u32('service_id', serviceId).u32('cluster_id', clusterId).bytes;
}

/** An lb_endpoint's bytes as policy text, e.g. `127.0.0.1:18080`. */
export function decodeEndpoint(bytes: Uint8Array): string {
  const r = new StructReader(LB_ENDPOINT, bytes);
  const family: Family = r.u8('family') === AF[6] ? 6 : 4;
  return formatSocketAddress(family, r.raw('addr'), r.u16Be('port'));
}

export function decodeService(bytes: Uint8Array): { serviceId: number; mode: keyof typeof LB_MODE; slots: ClusterSlot[] } {
  const r = new StructReader(LB_SERVICE, bytes);
  const count = Math.min(r.u8('cluster_count'), LB_MAX_CLUSTERS);
  const table = r.raw('clusters');
  const slots = Array.from({ length: count }, (_, i) => {
    const s = new StructReader(LB_CLUSTER_SLOT, table.subarray(i * LB_CLUSTER_SLOT.size, (i + 1) * LB_CLUSTER_SLOT.size));
    const flags = s.u32('flags');
    return { clusterId: s.u32('cluster_id'), weight: s.u32('weight'), backendCount: s.u32('backend_count'), healthy: (flags & LB_CLUSTER_FLAGS.healthy) !== 0, viaGateway: (flags & LB_CLUSTER_FLAGS.viaGateway) !== 0 };
  });
  return { serviceId: r.u32('service_id'), mode: r.u8('mode') === LB_MODE.ordered ? 'ordered' : 'weighted', slots };
}
