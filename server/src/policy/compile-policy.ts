import { ALL_UP, type HealthState } from './health';
import type { Policy } from './policy-model';
import { routePolicy, type ServiceRoute } from './routing';
import { encodeBackendKey, encodeEndpoint, encodeService, encodeServiceKey, LB_MAPS } from './socket-lb-layout';

/**
 * A policy and the health it is applied with, compiled into the exact entries of clusterset-socket-lb's
 * policy maps (layouts in socket-lb-layout.ts). Writing them into the running maps changes what the
 * program does on the next connect, without reloading it.
 */

export interface MapEntryBytes {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface CompiledMap {
  readonly map: string;
  readonly entries: readonly MapEntryBytes[];
  /**
   * What becomes of a current key the compiled entries do not have: 'delete' (hash maps, the default),
   * 'zero' (array slots: written with zeros, when not zero already), 'keep' (left as it is).
   */
  readonly stale?: 'delete' | 'zero' | 'keep';
}

export interface CompiledPolicy {
  readonly routes: readonly ServiceRoute[];
  /**
   * Every entry the maps should hold, in the order they are written (socket-lb: lb_backends, then
   * lb_services); stale keys go in the reverse order.
   */
  readonly maps: readonly CompiledMap[];
}

export function compilePolicy(policy: Policy, health: HealthState = ALL_UP): CompiledPolicy {
  const routes = routePolicy(policy, health);
  const services: MapEntryBytes[] = [];
  const backends: MapEntryBytes[] = [];
  for (const route of routes) {
    const { service } = route;
    for (const cluster of route.clusters) {
      cluster.backends.forEach((backend, index) => {
        backends.push({ key: encodeBackendKey(service.id, cluster.clusterId, index), value: encodeEndpoint(backend) });
      });
    }
    const slots = route.clusters.map((c) => ({ clusterId: c.clusterId, weight: c.weight, backendCount: c.backends.length, healthy: c.healthy, viaGateway: c.viaGateway }));
    services.push({ key: encodeServiceKey(service.vip, service.protocol), value: encodeService(service.id, route.mode, slots) });
  }
  return { routes, maps: [{ map: LB_MAPS.backends, entries: backends }, { map: LB_MAPS.services, entries: services }] };
}
