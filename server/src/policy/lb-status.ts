import type { HealthState } from './health';
import type { Policy } from './policy-model';
import { expectedShares, routePolicy } from './routing';
import { LB_CLUSTER_NONE } from './socket-lb-layout';

/** One lb_stats entry, summed over CPUs. */
export interface ClusterCounts {
  readonly serviceId: number;
  readonly clusterId: number;
  readonly connects: number;
  readonly datagrams: number;
}

/**
 * lb_stats entries as a map dump decodes them by BTF (libbpf-ts mapDump with `decode`, the session's
 * `maps.dump`): key `{ service_id, cluster_id }`, value one `{ connects, datagrams }` per CPU (64-bit
 * numbers as decimal strings). Entries of another shape are skipped.
 */
export function countsFromDump(entries: readonly { key: unknown; value: unknown }[]): ClusterCounts[] {
  const counts: ClusterCounts[] = [];
  for (const { key, value } of entries) {
    const k = key as { service_id?: unknown; cluster_id?: unknown };
    if (typeof k?.service_id !== 'number' || typeof k.cluster_id !== 'number' || !Array.isArray(value)) continue;
    const perCpu = value as { connects?: unknown; datagrams?: unknown }[];
    counts.push({
      serviceId: k.service_id,
      clusterId: k.cluster_id,
      connects: perCpu.reduce((sum, v) => sum + Number(v?.connects ?? 0), 0),
      datagrams: perCpu.reduce((sum, v) => sum + Number(v?.datagrams ?? 0), 0),
    });
  }
  return counts;
}

export interface ClusterStatus {
  readonly cluster: string;
  readonly clusterId: number;
  readonly connects: number;
  readonly datagrams: number;
  /** This cluster's part of the service's steered connects + datagrams (0 when there are none). */
  readonly share: number;
  /** The part the policy gives it under the current health. */
  readonly expectedShare: number;
}

export interface ServiceStatus {
  readonly service: string;
  readonly serviceId: number;
  readonly clusters: readonly ClusterStatus[];
  /** Connects and datagrams to the VIP that found no healthy backend. */
  readonly noBackend: { readonly connects: number; readonly datagrams: number };
  readonly total: number;
}

/** Per service and cluster: the kernel's counts next to the split the policy asks for. */
export function serviceStatus(policy: Policy, health: HealthState, counts: readonly ClusterCounts[]): ServiceStatus[] {
  const byKey = new Map(counts.map((c) => [`${c.serviceId}/${c.clusterId}`, { connects: c.connects, datagrams: c.datagrams }]));
  return routePolicy(policy, health).map((route) => {
    const id = route.service.id;
    const expected = expectedShares(route);
    const known = new Map(route.clusters.map((c) => [c.clusterId, c.cluster]));
    for (const cluster of policy.clusters.values()) if (!known.has(cluster.id)) known.set(cluster.id, cluster.name);
    const clusters = [...known].map(([clusterId, cluster]) => ({ cluster, clusterId, ...(byKey.get(`${id}/${clusterId}`) ?? { connects: 0, datagrams: 0 }) }));
    const total = clusters.reduce((sum, c) => sum + c.connects + c.datagrams, 0);
    return {
      service: route.service.name,
      serviceId: id,
      clusters: clusters.map((c) => ({ ...c, share: total === 0 ? 0 : (c.connects + c.datagrams) / total, expectedShare: expected.get(c.cluster) ?? 0 })),
      noBackend: byKey.get(`${id}/${LB_CLUSTER_NONE}`) ?? { connects: 0, datagrams: 0 },
      total,
    };
  });
}
