import { UsageError } from '../engine/usage-error';
import type { CompiledPolicy, MapEntryBytes } from './compile-policy';
import { ALL_UP, type HealthState } from './health';
import { buildMaglevTable } from './maglev';
import { decodeNatBackend, decodeNatService, encodeNatBackend, encodeNatService, encodeNatServiceKey, NAT_MAPS, NAT_MAX_BACKENDS, NAT_MAX_SERVICES, NAT_RING_ENTRIES } from './nat-layout';
import { assignSlots, checkRings, hexOf, nextRing, ringEntries, u32At, type CurrentEntries } from './packet-compile-common';
import type { Policy } from './policy-model';
import { routePolicy } from './routing';
import { u32Bytes } from './gateway-layout';

/**
 * tc-cluster-nat's policy maps from `services:` (IPv4 only): each service VIP:port readdressed to the live
 * backends of its clusters (endpoints, or the cluster's gateway), weighted by the policy — ActiveActive:
 * a healthy cluster's weight split evenly among its live backends; FailOver/Locality: the first healthy
 * cluster's backends, evenly. Backend slots are kept across applies; each service's new Maglev table
 * goes into the spare ring of its pair before `services` points at it.
 */

export interface NatCompileOptions {
  /** The program's ring_size (a prime). */
  readonly ringSize: number;
  /** The running maps' entries of services and nat_backends; none: empty maps. */
  readonly current?: CurrentEntries;
}

export interface CompiledNat extends CompiledPolicy {
  /** Backend `address:port` → its index in nat_backends. */
  readonly backends: ReadonlyMap<string, number>;
  /** Service name → the ring its table was written to, with the table. */
  readonly services: ReadonlyMap<string, { readonly ring: number; readonly table: Uint32Array }>;
}

export function compileNatPolicy(policy: Policy, health: HealthState = ALL_UP, options: NatCompileOptions): CompiledNat {
  const current = options.current ?? new Map<string, readonly MapEntryBytes[]>();
  const v6 = policy.services.filter((s) => s.vip.family !== 4);
  if (v6.length > 0) {
    throw new UsageError(v6.map((s) => `${policy.path}:${s.at.line}:${s.at.col}: service ${s.name}: tc-cluster-nat translates IPv4 only (VIP ${s.vip.text})`).join('\n'));
  }
  const routes = routePolicy(policy, health);

  const live = new Map<string, { host: string; port: number }>();
  for (const route of routes) for (const c of route.clusters) for (const b of c.backends) live.set(b.text, { host: b.host, port: b.port });
  const currentBackends = new Map<string, number>();
  for (const e of current.get(NAT_MAPS.backends) ?? []) {
    const text = decodeNatBackend(e.value).text;
    if (text !== undefined && !currentBackends.has(text)) currentBackends.set(text, u32At(e.key));
  }
  const backendSlots = assignSlots([...live.keys()].sort(), currentBackends, NAT_MAX_BACKENDS, 'backends');
  const backendEntries = [...live].map(([text, b]) => ({ key: u32Bytes(backendSlots.get(text)!), value: encodeNatBackend(b.host, b.port) }));

  const keys = routes.map((r) => encodeNatServiceKey(r.service.vip.host, r.service.vip.port, r.service.protocol));
  const currentRing = new Map<string, number>();
  for (const e of current.get(NAT_MAPS.services) ?? []) currentRing.set(hexOf(e.key), decodeNatService(e.value));
  const pairs = assignSlots(keys.map(hexOf), new Map([...currentRing].map(([k, ring]) => [k, ring >> 1])), NAT_MAX_SERVICES, 'services');
  checkRings(NAT_RING_ENTRIES, options.ringSize, Math.max(0, ...pairs.values()) + 1, 'ring_size');

  const rings: MapEntryBytes[] = [];
  const serviceEntries: MapEntryBytes[] = [];
  const services = new Map<string, { ring: number; table: Uint32Array }>();
  routes.forEach((route, i) => {
    const key = keys[i]!;
    const usable = route.clusters.filter((c) => c.healthy && c.backends.length > 0);
    const chosen = route.mode === 'weighted' ? usable : usable.slice(0, 1);
    const members = chosen.flatMap((c) => c.backends.map((b) => ({ id: backendSlots.get(b.text)!, weight: route.mode === 'weighted' ? c.weight / c.backends.length : 1 })));
    const table = buildMaglevTable(members, options.ringSize);
    const ring = nextRing(pairs.get(hexOf(key))!, currentRing.get(hexOf(key)));
    rings.push(...ringEntries(ring, table));
    serviceEntries.push({ key, value: encodeNatService(ring) });
    services.set(route.service.name, { ring, table });
  });
  return {
    routes,
    backends: backendSlots,
    services,
    maps: [
      { map: NAT_MAPS.backends, entries: backendEntries, stale: 'zero' },
      { map: NAT_MAPS.rings, entries: rings, stale: 'keep' },
      { map: NAT_MAPS.services, entries: serviceEntries, stale: 'delete' },
    ],
  };
}
