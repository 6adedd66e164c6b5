import { expectedShares, routeService, type HealthState, type Policy, type ServiceStatus } from '@ebpf-studio/server';

/** How `run`, `status` and the demo show lb_stats against the policy. */

const pct = (share: number): string => `${(share * 100).toFixed(1)}%`;
const steered = (c: { connects: number; datagrams: number }): number => c.connects + c.datagrams;

/** What `since` found, on one line: `orders +1013: east 812 (80.2%, policy 80.0%) · west 201 (19.8%, policy 20.0%) · no backend 0`. */
export function freshLine(s: ServiceStatus): string {
  const clusters = s.clusters.map((c) => `${c.cluster} ${steered(c)} (${pct(c.share)}, policy ${pct(c.expectedShare)})`);
  return `${s.service} +${s.total}: ${[...clusters, `no backend ${steered(s.noBackend)}`].join(' · ')}`;
}

/** What was counted between `before` and `now` (the same service), with the split of just that. */
export function since(now: ServiceStatus, before: ServiceStatus | undefined): ServiceStatus {
  if (!before) return now;
  const minus = <T extends { connects: number; datagrams: number }>(a: T, b: { connects: number; datagrams: number } | undefined): T =>
    ({ ...a, connects: a.connects - (b?.connects ?? 0), datagrams: a.datagrams - (b?.datagrams ?? 0) });
  const clusters = now.clusters.map((c) => minus(c, before.clusters.find((b) => b.clusterId === c.clusterId)));
  const total = clusters.reduce((sum, c) => sum + steered(c), 0);
  return { ...now, clusters: clusters.map((c) => ({ ...c, share: total === 0 ? 0 : steered(c) / total })), noBackend: minus(now.noBackend, before.noBackend), total };
}

/** A small table per service: counts, live split and the split the policy asks for. */
export function statusTable(statuses: readonly ServiceStatus[]): string {
  const lines: string[] = [];
  for (const s of statuses) {
    lines.push(`${s.service} (service id ${s.serviceId}): ${s.total} steered, ${steered(s.noBackend)} found no healthy backend`);
    const width = Math.max(7, ...s.clusters.map((c) => c.cluster.length));
    lines.push(`  ${'cluster'.padEnd(width)}  connects  datagrams  live split  policy`);
    for (const c of s.clusters) {
      lines.push(`  ${c.cluster.padEnd(width)}  ${String(c.connects).padStart(8)}  ${String(c.datagrams).padStart(9)}  ${pct(c.share).padStart(10)}  ${pct(c.expectedShare).padStart(6)}`);
    }
  }
  return lines.join('\n');
}

/** Where new connections of `service` go under `health`: `east 0.0% · west 100.0%`. */
export function policySplit(policy: Policy, health: HealthState, service: string): string {
  const def = policy.services.find((s) => s.name === service);
  if (!def) return '(no such service)';
  const shares = [...expectedShares(routeService(policy, def, health))];
  if (!shares.some(([, share]) => share > 0)) return 'nowhere: no cluster has a healthy backend';
  return shares.map(([cluster, share]) => `${cluster} ${pct(share)}`).join(' · ');
}
