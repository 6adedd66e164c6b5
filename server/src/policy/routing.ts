import type { SocketAddress } from './address';
import { clusterDown, endpointDown, type HealthState } from './health';
import type { Policy, ServiceDef } from './policy-model';

/**
 * What a policy means for each service, given health: the clusters it may use, in order, with their
 * weights, whether each is healthy, and its live backends. This is what compile-policy writes into the
 * maps and what the BPF program then does per connection; expectedShares says the same in numbers.
 */

export interface ClusterRoute {
  readonly cluster: string;
  readonly clusterId: number;
  /** ActiveActive's weight; 1 in the ordered modes. */
  readonly weight: number;
  readonly viaGateway: boolean;
  /** The backends that are up: the cluster's gateway, or its endpoints not marked down. */
  readonly backends: readonly SocketAddress[];
  /** Not marked down and at least one backend (for a gateway: at least one endpoint behind it, when any are listed). */
  readonly healthy: boolean;
}

export interface ServiceRoute {
  readonly service: ServiceDef;
  /** 'ordered': the first healthy cluster takes everything (FailOver, Locality); 'weighted': split by weight. */
  readonly mode: 'weighted' | 'ordered';
  readonly clusters: readonly ClusterRoute[];
}

function clusterRoute(policy: Policy, service: ServiceDef, name: string, weight: number, health: HealthState): ClusterRoute {
  const cluster = policy.clusters.get(name)!;
  const endpoints = service.endpoints.get(name) ?? [];
  const live = endpoints.filter((e) => !endpointDown(health, service.name, e.text));
  const marked = clusterDown(health, service.name, name);
  if (cluster.gateway) {
    const gatewayUp = !endpointDown(health, service.name, cluster.gateway.text);
    const behind = endpoints.length === 0 || live.length > 0;
    return { cluster: name, clusterId: cluster.id, weight, viaGateway: true, backends: gatewayUp ? [cluster.gateway] : [], healthy: !marked && gatewayUp && behind };
  }
  return { cluster: name, clusterId: cluster.id, weight, viaGateway: false, backends: live, healthy: !marked && live.length > 0 };
}

export function routeService(policy: Policy, service: ServiceDef, health: HealthState): ServiceRoute {
  const p = service.policy;
  if (p.type === 'ActiveActive') {
    const clusters = [...p.weights].filter(([, w]) => w > 0).map(([name, w]) => clusterRoute(policy, service, name, w, health));
    return { service, mode: 'weighted', clusters };
  }
  const order = p.type === 'FailOver' ? p.order : [policy.localCluster!];
  return { service, mode: 'ordered', clusters: order.map((name) => clusterRoute(policy, service, name, 1, health)) };
}

export function routePolicy(policy: Policy, health: HealthState): ServiceRoute[] {
  return policy.services.map((s) => routeService(policy, s, health));
}

/** The share of new connections each cluster takes (0 for the others); all zero when none is healthy. */
export function expectedShares(route: ServiceRoute): Map<string, number> {
  const shares = new Map(route.clusters.map((c) => [c.cluster, 0]));
  const usable = route.clusters.filter((c) => c.healthy && c.backends.length > 0);
  if (route.mode === 'ordered') {
    if (usable[0]) shares.set(usable[0].cluster, 1);
    return shares;
  }
  const total = usable.reduce((sum, c) => sum + c.weight, 0);
  for (const c of usable) shares.set(c.cluster, c.weight / total);
  return shares;
}
