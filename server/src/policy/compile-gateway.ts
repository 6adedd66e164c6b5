import { UsageError } from '../engine/usage-error';
import { formatSocketAddress } from './address';
import type { CompiledPolicy, MapEntryBytes } from './compile-policy';
import { decodeGatewayBackend, decodeVipMeta, encodeGatewayBackend, encodeVipKey, encodeVipMeta, GW_MAPS, GW_MAX_BACKENDS, GW_MAX_VIPS, GW_RING_ENTRIES, u32Bytes } from './gateway-layout';
import { ALL_UP, type HealthState } from './health';
import { buildMaglevTable, type MaglevBackend } from './maglev';
import { assignSlots, checkRings, hexOf, nextRing, ringEntries, u32At, type CurrentEntries } from './packet-compile-common';
import type { Policy } from './policy-model';
import { routePolicy } from './routing';

/**
 * xdp-maglev-gateway's policy maps from `services:`: every service VIP balanced over the gateways of its
 * clusters (clusters without a gateway are not reachable from this program and are left out), weighted
 * by the policy — ActiveActive: the healthy clusters' weights; FailOver/Locality: the first healthy
 * cluster with a gateway takes everything. Backends are the gateways (one slot each, kept across
 * applies so pinned flows keep theirs), up when healthy in some service; each VIP's new Maglev table is
 * written into the spare ring of its pair before vip_table points the VIP at it.
 */

export interface GatewayCompileOptions {
  /** The program's ring_size (a prime). */
  readonly ringSize: number;
  /** The next-hop MAC every gateway's frames go to (the program's `nextHop:`); default 00:00:00:00:00:00. */
  readonly nextHop?: string;
  /** The running maps' entries of vips, vip_table and backends (slots and rings in use); none: empty maps. */
  readonly current?: CurrentEntries;
}

export interface CompiledGateway extends CompiledPolicy {
  /** Gateway `address:port` → backend index. */
  readonly backends: ReadonlyMap<string, number>;
  /** Service name → its VIP index and the ring its table was written to, with the table. */
  readonly vips: ReadonlyMap<string, { readonly index: number; readonly ring: number; readonly table: Uint32Array }>;
}

export const NO_MAC = '00:00:00:00:00:00';

export function compileGatewayPolicy(policy: Policy, health: HealthState = ALL_UP, options: GatewayCompileOptions): CompiledGateway {
  const current = options.current ?? new Map<string, readonly MapEntryBytes[]>();
  const routes = routePolicy(policy, health);

  // Gateways: every cluster with one that some service routes to.
  const gateways = new Map<string, { text: string; host: string; up: boolean }>();
  for (const route of routes) {
    for (const c of route.clusters) {
      const gw = policy.clusters.get(c.cluster)?.gateway;
      if (!c.viaGateway || !gw) continue;
      const known = gateways.get(gw.text);
      gateways.set(gw.text, { text: gw.text, host: gw.host, up: (known?.up ?? false) || c.healthy });
    }
  }
  const currentBackends = new Map<string, number>();
  for (const e of current.get(GW_MAPS.backends) ?? []) {
    const b = decodeGatewayBackend(e.value);
    if (b.family === 0) continue;
    const host = formatSocketAddress(b.family === 10 ? 6 : 4, b.addr, 0).replace(/:0$/, '').replace(/^\[(.*)\]$/, '$1');
    for (const g of gateways.values()) if (g.host === host && !currentBackends.has(g.text)) currentBackends.set(g.text, u32At(e.key));
  }
  const backendSlots = assignSlots([...gateways.keys()].sort(), currentBackends, GW_MAX_BACKENDS, 'gateways');
  const backendEntries = [...gateways.values()].map((g) => ({ key: u32Bytes(backendSlots.get(g.text)!), value: encodeGatewayBackend(g.host, options.nextHop ?? NO_MAC, g.up) }));

  // VIPs: a stable index each, and the other ring of its pair.
  const currentIndex = new Map<string, number>();
  for (const e of current.get(GW_MAPS.vips) ?? []) currentIndex.set(hexOf(e.key), u32At(e.value));
  const currentRing = new Map<number, number>();
  for (const e of current.get(GW_MAPS.vipTable) ?? []) {
    if (e.value.some((b) => b !== 0)) currentRing.set(u32At(e.key), decodeVipMeta(e.value).ring);
  }
  const keys = routes.map((r) => encodeVipKey(r.service.vip.host, r.service.vip.port, r.service.protocol));
  const indexes = assignSlots(keys.map(hexOf), currentIndex, GW_MAX_VIPS, 'VIPs');
  checkRings(GW_RING_ENTRIES, options.ringSize, Math.max(0, ...indexes.values()) + 1, 'ring_size');

  const rings: MapEntryBytes[] = [];
  const vipTable: MapEntryBytes[] = [];
  const vipEntries: MapEntryBytes[] = [];
  const vips = new Map<string, { index: number; ring: number; table: Uint32Array }>();
  routes.forEach((route, i) => {
    const key = keys[i]!;
    const index = indexes.get(hexOf(key))!;
    const viaGateway = route.clusters.filter((c) => c.viaGateway && policy.clusters.get(c.cluster)?.gateway);
    const first = viaGateway.find((c) => c.healthy);
    const members: MaglevBackend[] = viaGateway.map((c) => ({
      id: backendSlots.get(policy.clusters.get(c.cluster)!.gateway!.text)!,
      weight: !c.healthy ? 0 : route.mode === 'weighted' ? c.weight : c === first ? 1 : 0,
    }));
    // Two clusters behind one gateway: one backend with their weights summed.
    const merged = new Map<number, number>();
    for (const m of members) merged.set(m.id, (merged.get(m.id) ?? 0) + m.weight);
    const table = buildMaglevTable([...merged].map(([id, weight]) => ({ id, weight })), options.ringSize);
    const ring = nextRing(index, currentRing.get(index));
    rings.push(...ringEntries(ring, table));
    vipTable.push({ key: u32Bytes(index), value: encodeVipMeta(key, ring) });
    vipEntries.push({ key, value: u32Bytes(index) });
    vips.set(route.service.name, { index, ring, table });
  });
  if (routes.length > 0 && gateways.size === 0) {
    throw new UsageError(`${policy.path}: no service of the policy routes to a cluster with a gateway: xdp-maglev-gateway has nothing to balance over`, 'give the remote clusters a gateway: address:port');
  }
  return {
    routes,
    backends: backendSlots,
    vips,
    maps: [
      { map: GW_MAPS.backends, entries: backendEntries, stale: 'zero' },
      { map: GW_MAPS.rings, entries: rings, stale: 'keep' },
      { map: GW_MAPS.vipTable, entries: vipTable, stale: 'zero' },
      { map: GW_MAPS.vips, entries: vipEntries, stale: 'delete' },
    ],
  };
}
