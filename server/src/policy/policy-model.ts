import type { SocketAddress } from './address';

/**
 * The services-and-policy part of `ebpf-studio.yaml` (version 1, docs/policy.md), as read and checked by
 * read-policy.ts. Names are plain (letters, digits, `.`, `_`, `-`); every address is already parsed.
 */

export const POLICY_VERSION = 1;

/** 1-based, as editors and `file:line:col` count. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

export interface ClusterDef {
  readonly name: string;
  /**
   * The cluster's number in the maps: the same on every node, 1-65535. 0 only in a file without services
   * (where ids are optional); the maps use 0 for "no healthy backend".
   */
  readonly id: number;
  /** Traffic for this cluster goes to its gateway (FSM style); without one, straight to its endpoints. */
  readonly gateway?: SocketAddress;
  readonly at: Position;
}

export type ServicePolicy =
  /** Only the local cluster. */
  | { readonly type: 'Locality' }
  /** The first cluster in `order` with a healthy endpoint; back to an earlier one when it recovers. */
  | { readonly type: 'FailOver'; readonly order: readonly string[] }
  /** Split by weight among the clusters that are healthy. */
  | { readonly type: 'ActiveActive'; readonly weights: ReadonlyMap<string, number> };

export type PolicyType = ServicePolicy['type'];
export const POLICY_TYPES: readonly PolicyType[] = ['Locality', 'FailOver', 'ActiveActive'];

export type Protocol = 'tcp' | 'udp';

export interface ProbeDef {
  /** Probe endpoints with a TCP connect. */
  readonly tcp: boolean;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Unanswered probes in a row before a backend is marked down (one answer marks it up again). */
  readonly failures: number;
}

export interface ServiceDef {
  readonly name: string;
  /** The service's number in the maps (the `id` key, else derived from the name: stable across edits). */
  readonly id: number;
  readonly vip: SocketAddress;
  readonly protocol: Protocol;
  readonly policy: ServicePolicy;
  /** cluster → endpoints, in file order. */
  readonly endpoints: ReadonlyMap<string, readonly SocketAddress[]>;
  readonly probe?: ProbeDef;
  readonly at: Position;
}

export type SettingValue = string | number | boolean;

/** One allow/deny rule of a cgroup-skb-policy program (`programs[].rules`). */
export interface RuleDef {
  readonly action: 'allow' | 'deny';
  /** Canonical `address/length`, host bits zero (`10.0.0.0/8`, `2001:db8::/32`). */
  readonly cidr: string;
  /** Destination port; undefined: every port (a port needs a protocol). */
  readonly port?: number;
  /** undefined: every protocol. */
  readonly protocol?: Protocol;
  /** undefined: both directions. */
  readonly direction?: 'ingress' | 'egress';
  readonly at: Position;
}

export interface ProgramDef {
  readonly name: string;
  readonly template: string;
  /** Where it attaches: a cgroup path relative to the cgroup2 mount, and/or a network interface (xdp, tc). */
  readonly attach: { readonly cgroup?: string; readonly interface?: string };
  /** Which of the template's programs to load; undefined: all of them. */
  readonly load?: readonly string[];
  /** const volatile settings of the template, by parameter name. */
  readonly settings: Readonly<Record<string, SettingValue>>;
  /** cgroup-rules templates (cgroup-skb-policy): the allow/deny rules, in file order. */
  readonly rules?: readonly RuleDef[];
  /** maglev-gateway templates (xdp-maglev-gateway): the next-hop MAC towards the gateways (`aa:bb:cc:dd:ee:ff`). */
  readonly nextHop?: string;
  readonly at: Position;
}

export interface PolicyProblem extends Position {
  readonly message: string;
}

export interface Policy {
  /** Absolute path of the file, or '<text>'. */
  readonly path: string;
  readonly version: number;
  readonly localCluster?: string;
  readonly clusters: ReadonlyMap<string, ClusterDef>;
  readonly services: readonly ServiceDef[];
  readonly programs: readonly ProgramDef[];
  /** Not wrong, but likely a mistake (unknown keys, clusters that can get no traffic), positioned. */
  readonly warnings: readonly PolicyProblem[];
}

export class PolicyError extends Error {
  constructor(readonly path: string, readonly problems: readonly PolicyProblem[]) {
    super(problems.map((p) => `${path}:${p.line}:${p.col}: ${p.message}`).join('\n'));
    this.name = 'PolicyError';
  }
}
