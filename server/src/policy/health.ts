import { parseSocketAddress } from './address';
import type { Policy, ServiceDef } from './policy-model';

/**
 * Health as the engine knows it: per service, clusters and endpoints marked down (by `ebpf-studio
 * health`, or by the agent's probe). Anything not marked is up. Plain JSON, so it can be kept in a file.
 * Endpoint keys are the canonical `address:port` text (`[v6]:port` for IPv6); a cluster's gateway is
 * marked by its address too.
 */
export type HealthStatus = 'up' | 'down';
export type HealthState = Readonly<Record<string, Readonly<Record<string, HealthStatus>>>>;

export const ALL_UP: HealthState = {};

export class HealthTargetError extends Error {
  override name = 'HealthTargetError';
}

function isDown(health: HealthState, service: string, target: string): boolean {
  return health[service]?.[target] === 'down';
}

export function clusterDown(health: HealthState, service: string, cluster: string): boolean {
  return isDown(health, service, cluster);
}

export function endpointDown(health: HealthState, service: string, endpointText: string): boolean {
  return isDown(health, service, endpointText);
}

/** The canonical name of `target` for `service`: one of its clusters, endpoints or gateways. */
function resolveTarget(policy: Policy, service: ServiceDef, target: string): string {
  if (policy.clusters.has(target)) return target;
  const parsed = parseSocketAddress(target);
  const text = typeof parsed === 'string' ? undefined : parsed.text;
  const endpoints = [...service.endpoints.values()].flat().map((e) => e.text);
  const gateways = [...policy.clusters.values()].flatMap((c) => (c.gateway ? [c.gateway.text] : []));
  if (text !== undefined && (endpoints.includes(text) || gateways.includes(text))) return text;
  throw new HealthTargetError(
    `service ${service.name} has no cluster or endpoint "${target}" (clusters: ${[...policy.clusters.keys()].join(', ')}; endpoints: ${endpoints.join(', ') || 'none'})`,
  );
}

/** A new state with `target` (a cluster name or an endpoint/gateway address) of `service` marked up or down. */
export function setHealth(policy: Policy, health: HealthState, serviceName: string, target: string, status: HealthStatus): HealthState {
  const service = policy.services.find((s) => s.name === serviceName);
  if (!service) throw new HealthTargetError(`no service "${serviceName}" (services: ${policy.services.map((s) => s.name).join(', ') || 'none'})`);
  const key = resolveTarget(policy, service, target);
  const marks: Record<string, HealthStatus> = { ...(health[serviceName] ?? {}) };
  if (status === 'down') marks[key] = 'down';
  else delete marks[key];
  const next: Record<string, Readonly<Record<string, HealthStatus>>> = { ...health };
  if (Object.keys(marks).length === 0) delete next[serviceName];
  else next[serviceName] = marks;
  return next;
}
