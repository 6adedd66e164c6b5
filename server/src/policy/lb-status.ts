import type { HealthState } from './health';
import type { Policy } from './policy-model';
import { expectedShares, routePolicy } from './routing';
import { decodeStatsKey, LB_CLUSTER_NONE, sumCounters } from './socket-lb-layout';

/** One lb_stats entry as read from the kernel: the key and one value per possible CPU. */
export interface StatsRow {
  readonly key: Uint8Array;
  readonly values: readonly Uint8Array[];
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
export function serviceStatus(policy: Policy, health: HealthState, rows: readonly StatsRow[]): ServiceStatus[] {
  const counts = new Map<string, { connects: number; datagrams: number }>();
  for (const row of rows) {
    const { serviceId, clusterId } = decodeStatsKey(row.key);
    const sum = sumCounters(row.values);
    counts.set(`${serviceId}/${clusterId}`, { connects: Number(sum.connects), datagrams: Number(sum.datagrams) });
  }
  return routePolicy(policy, health).map((route) => {
    const id = route.service.id;
    const expected = expectedShares(route);
    const known = new Map(route.clusters.map((c) => [c.clusterId, c.cluster]));
    for (const cluster of policy.clusters.values()) if (!known.has(cluster.id)) known.set(cluster.id, cluster.name);
    const clusters = [...known].map(([clusterId, cluster]) => ({ cluster, clusterId, ...(counts.get(`${id}/${clusterId}`) ?? { connects: 0, datagrams: 0 }) }));
    const total = clusters.reduce((sum, c) => sum + c.connects + c.datagrams, 0);
    return {
      service: route.service.name,
      serviceId: id,
      clusters: clusters.map((c) => ({ ...c, share: total === 0 ? 0 : (c.connects + c.datagrams) / total, expectedShare: expected.get(c.cluster) ?? 0 })),
      noBackend: counts.get(`${id}/${LB_CLUSTER_NONE}`) ?? { connects: 0, datagrams: 0 },
      total,
    };
  });
}
