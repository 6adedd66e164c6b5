import { isMap } from 'yaml';
import { parseDuration } from '@ebpf-studio/remote-agent';
import { parseSocketAddress, type SocketAddress } from './address';
import { POLICY_TYPES, type ClusterDef, type Position, type ProbeDef, type Protocol, type ServiceDef, type ServicePolicy } from './policy-model';
import { serviceIdOf } from './service-id';
import { LB_MAX_CLUSTERS, LB_MAX_SERVICES } from './socket-lb-layout';
import { readNamedEntry } from './named-entry';
import { entryOf, scalar, type YamlChecker, type YamlEntry } from './yaml-checker';

const MAX_WEIGHT = 1_000_000;
const SERVICE_KEYS = ['name', 'id', 'vip', 'protocol', 'policy', 'endpoints', 'probe'];
const DEFAULT_PROBE = { intervalMs: 2000, timeoutMs: 500, failures: 2 };

export interface ServiceContext {
  readonly clusters: ReadonlyMap<string, ClusterDef>;
  readonly localCluster?: string;
}

function clusterRef(check: YamlChecker, node: unknown, fallback: unknown, ctx: ServiceContext, where: string): string | undefined {
  const name = check.string(node, fallback, where);
  if (name === undefined) return undefined;
  if (!ctx.clusters.has(name)) {
    const known = [...ctx.clusters.keys()];
    check.error(node, fallback, `${where}: unknown cluster "${name}" (clusters: ${known.length > 0 ? known.join(', ') : 'none defined under clusters:'})`);
    return undefined;
  }
  return name;
}

function readAddress(check: YamlChecker, node: unknown, fallback: unknown, what: string): SocketAddress | undefined {
  const raw = scalar(node);
  if (typeof raw !== 'string') {
    check.error(node, fallback, `${what} must be an address:port such as 127.100.0.20:80 or [fd00::20]:80${raw === undefined ? '' : ` (got ${JSON.stringify(raw)})`}`);
    return undefined;
  }
  const parsed = parseSocketAddress(raw);
  if (typeof parsed === 'string') {
    check.error(node, fallback, `${what}: ${parsed}`);
    return undefined;
  }
  return parsed;
}

function readWeights(check: YamlChecker, node: unknown, fallback: unknown, ctx: ServiceContext, where: string): Map<string, number> | undefined {
  const weights = new Map<string, number>();
  let ok = true;
  for (const e of check.pairs(node, fallback, `${where}.weights`)) {
    const cluster = clusterRef(check, e.keyNode, node, ctx, `${where}.weights`);
    const raw = scalar(e.value);
    if (typeof raw !== 'number' || !Number.isFinite(raw)) {
      check.error(e.value, e.keyNode, `${where}.weights.${e.key}: weight ${JSON.stringify(raw ?? null)} is not a number (weights are relative whole numbers, e.g. 80 and 20)`);
      ok = false;
    } else if (raw < 0) {
      check.error(e.value, e.keyNode, `${where}.weights.${e.key}: weight ${raw} is negative (use 0 for no traffic)`);
      ok = false;
    } else if (!Number.isInteger(raw) || raw > MAX_WEIGHT) {
      check.error(e.value, e.keyNode, `${where}.weights.${e.key}: weight ${raw} must be a whole number from 0 to ${MAX_WEIGHT}`);
      ok = false;
    } else if (cluster !== undefined) {
      weights.set(cluster, raw);
    }
    if (cluster === undefined) ok = false;
  }
  if (!ok) return undefined;
  if (weights.size === 0 || [...weights.values()].every((w) => w === 0)) {
    check.error(node, fallback, `${where}.weights: give at least one cluster a weight above 0`);
    return undefined;
  }
  return weights;
}

function readOrder(check: YamlChecker, node: unknown, fallback: unknown, ctx: ServiceContext, where: string): string[] | undefined {
  const order: string[] = [];
  let ok = true;
  for (const item of check.items(node, fallback, `${where}.order`)) {
    const cluster = clusterRef(check, item, node, ctx, `${where}.order`);
    if (cluster === undefined) ok = false;
    else if (order.includes(cluster)) {
      check.error(item, node, `${where}.order: cluster "${cluster}" is listed twice`);
      ok = false;
    } else order.push(cluster);
  }
  if (ok && order.length === 0) {
    check.error(node, fallback, `${where}.order: list at least one cluster, first choice first`);
    return undefined;
  }
  return ok ? order : undefined;
}

function readPolicy(check: YamlChecker, node: unknown, fallback: unknown, ctx: ServiceContext, where: string): ServicePolicy | undefined {
  const entries = check.pairs(node, fallback, `${where}.policy`);
  if (!isMap(node)) return undefined;
  const get = (key: string): YamlEntry | undefined => entryOf(entries, key);
  const typeEntry = get('type');
  const type = scalar(typeEntry?.value);
  const types = POLICY_TYPES.join(', ');
  if (typeEntry === undefined) {
    check.error(node, fallback, `${where}.policy needs a type: ${types}`);
    return undefined;
  }
  switch (type) {
    case 'Locality':
      check.unknownKeys(entries, ['type'], `${where}.policy (Locality)`, node);
      if (ctx.localCluster === undefined) {
        check.error(typeEntry.value, node, `${where}.policy: Locality keeps traffic in the local cluster, but the file has no localCluster: add e.g. "localCluster: ${[...ctx.clusters.keys()][0] ?? 'east'}"`);
        return undefined;
      }
      return { type };
    case 'FailOver': {
      check.unknownKeys(entries, ['type', 'order'], `${where}.policy (FailOver)`, node);
      const orderEntry = get('order');
      if (orderEntry === undefined) {
        check.error(typeEntry.value, node, `${where}.policy: FailOver without order: add "order: [${[...ctx.clusters.keys()].join(', ')}]" (first choice first)`);
        return undefined;
      }
      const order = readOrder(check, orderEntry.value, orderEntry.keyNode, ctx, `${where}.policy`);
      if (order && order.length > LB_MAX_CLUSTERS) {
        check.error(orderEntry.value, node, `${where}.policy.order: at most ${LB_MAX_CLUSTERS} clusters per service`);
        return undefined;
      }
      return order && { type, order };
    }
    case 'ActiveActive': {
      check.unknownKeys(entries, ['type', 'weights'], `${where}.policy (ActiveActive)`, node);
      const weightsEntry = get('weights');
      if (weightsEntry === undefined) {
        check.error(typeEntry.value, node, `${where}.policy: ActiveActive needs weights, e.g. "weights: { east: 80, west: 20 }"`);
        return undefined;
      }
      const weights = readWeights(check, weightsEntry.value, weightsEntry.keyNode, ctx, `${where}.policy`);
      if (weights && weights.size > LB_MAX_CLUSTERS) {
        check.error(weightsEntry.value, node, `${where}.policy.weights: at most ${LB_MAX_CLUSTERS} clusters per service`);
        return undefined;
      }
      return weights && { type, weights };
    }
    default:
      check.error(typeEntry.value, node, `${where}.policy.type ${JSON.stringify(type ?? null)} is not a policy type: use ${types}`);
      return undefined;
  }
}

function readEndpoints(check: YamlChecker, node: unknown, fallback: unknown, ctx: ServiceContext, where: string, vip: SocketAddress | undefined): Map<string, SocketAddress[]> | undefined {
  const endpoints = new Map<string, SocketAddress[]>();
  const seen = new Map<string, Position>();
  let ok = true;
  for (const e of check.pairs(node, fallback, `${where}.endpoints`)) {
    const cluster = clusterRef(check, e.keyNode, node, ctx, `${where}.endpoints`);
    const list: SocketAddress[] = [];
    for (const item of check.items(e.value, e.keyNode, `${where}.endpoints.${e.key}`)) {
      const address = readAddress(check, item, e.value, `${where}.endpoints.${e.key}`);
      if (address === undefined) {
        ok = false;
        continue;
      }
      const first = seen.get(address.text);
      if (first) {
        check.error(item, e.value, `${where}.endpoints.${e.key}: duplicate endpoint ${address.text} (first at line ${first.line}:${first.col})`);
        ok = false;
        continue;
      }
      seen.set(address.text, check.at(item));
      if (vip && address.family !== vip.family) {
        check.error(item, e.value, `${where}.endpoints.${e.key}: ${address.text} is IPv${address.family} but the VIP ${vip.text} is IPv${vip.family}`);
        ok = false;
        continue;
      }
      list.push(address);
    }
    if (cluster === undefined) ok = false;
    else endpoints.set(cluster, list);
  }
  return ok ? endpoints : undefined;
}

function readProbe(check: YamlChecker, node: unknown, fallback: unknown, where: string): ProbeDef | undefined {
  const entries = check.pairs(node, fallback, `${where}.probe`);
  check.unknownKeys(entries, ['tcp', 'interval', 'timeout', 'failures'], `${where}.probe`, node);
  let tcp = true;
  let { intervalMs, timeoutMs, failures } = DEFAULT_PROBE;
  for (const e of entries) {
    const raw = scalar(e.value);
    if (e.key === 'tcp') {
      if (typeof raw !== 'boolean') check.error(e.value, e.keyNode, `${where}.probe.tcp must be true or false`);
      else tcp = raw;
    } else if (e.key === 'interval' || e.key === 'timeout') {
      const ms = typeof raw === 'string' ? parseDuration(raw) : undefined;
      if (ms === undefined) check.error(e.value, e.keyNode, `${where}.probe.${e.key} must be a duration such as 2s or 500ms`);
      else if (e.key === 'interval') intervalMs = ms;
      else timeoutMs = ms;
    } else if (e.key === 'failures') {
      if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1) check.error(e.value, e.keyNode, `${where}.probe.failures must be a whole number of probes, 1 or more`);
      else failures = raw;
    }
  }
  if (timeoutMs >= intervalMs) check.warn(node, fallback, `${where}.probe: the timeout (${timeoutMs} ms) is not shorter than the interval (${intervalMs} ms)`);
  return { tcp, intervalMs, timeoutMs, failures };
}

/** Clusters the policy can send traffic to. */
function policyClusters(policy: ServicePolicy, localCluster: string | undefined): string[] {
  if (policy.type === 'Locality') return localCluster === undefined ? [] : [localCluster];
  if (policy.type === 'FailOver') return [...policy.order];
  return [...policy.weights].filter(([, w]) => w > 0).map(([c]) => c);
}

/** Warnings and errors that need the whole service: unreachable clusters, gateways of the wrong family. */
function crossCheck(check: YamlChecker, service: ServiceDef, ctx: ServiceContext, node: unknown, vipNode: unknown): boolean {
  const targets = policyClusters(service.policy, ctx.localCluster);
  let ok = true;
  for (const name of targets) {
    const cluster = ctx.clusters.get(name)!;
    if (cluster.gateway && cluster.gateway.family !== service.vip.family) {
      check.error(vipNode, node, `service ${service.name}: cluster ${name} is reached through its gateway ${cluster.gateway.text} (IPv${cluster.gateway.family}), but the VIP ${service.vip.text} is IPv${service.vip.family}`);
      ok = false;
    } else if (!cluster.gateway && (service.endpoints.get(name) ?? []).length === 0) {
      check.warn(node, undefined, `service ${service.name}: cluster ${name} has no endpoints and no gateway, so it can take no traffic`);
    }
  }
  for (const name of service.endpoints.keys()) {
    if (!targets.includes(name)) check.warn(node, undefined, `service ${service.name}: the endpoints of cluster ${name} get no traffic under ${service.policy.type}`);
  }
  return ok;
}

function readService(check: YamlChecker, node: unknown, fallback: unknown, index: number, ctx: ServiceContext): ServiceDef | undefined {
  const where = `services[${index}]`;
  const entry = readNamedEntry(check, node, fallback, where, SERVICE_KEYS);
  if (!entry) return undefined;
  const { get, name, problemsBefore } = entry;
  const label = name ?? where;

  const idEntry = get('id');
  const rawId = scalar(idEntry?.value);
  if (idEntry && (typeof rawId !== 'number' || !Number.isInteger(rawId) || rawId < 1 || rawId > 0xffffffff)) {
    check.error(idEntry.value, node, `${label}.id must be a whole number from 1 to 4294967295`);
  }

  const vipEntry = get('vip');
  const vip = vipEntry ? readAddress(check, vipEntry.value, vipEntry.keyNode, `${label}.vip`) : undefined;
  if (!vipEntry) check.error(node, fallback, `${label} has no vip (e.g. "vip: 127.100.0.20:80")`);

  const protocolEntry = get('protocol');
  const protocolRaw = protocolEntry ? scalar(protocolEntry.value) : 'tcp';
  if (protocolRaw !== 'tcp' && protocolRaw !== 'udp') check.error(protocolEntry?.value, node, `${label}.protocol must be tcp or udp`);

  const policyEntry = get('policy');
  const policy = policyEntry ? readPolicy(check, policyEntry.value, policyEntry.keyNode, ctx, label) : undefined;
  if (!policyEntry) check.error(node, fallback, `${label} has no policy (e.g. "policy: { type: Locality }")`);

  const endpointsEntry = get('endpoints');
  const endpoints = endpointsEntry ? readEndpoints(check, endpointsEntry.value, endpointsEntry.keyNode, ctx, label, vip) : new Map<string, SocketAddress[]>();

  const probeEntry = get('probe');
  const probe = probeEntry ? readProbe(check, probeEntry.value, probeEntry.keyNode, label) : undefined;

  if (check.problems.length > problemsBefore || name === undefined || vip === undefined || policy === undefined || endpoints === undefined) return undefined;
  const service: ServiceDef = {
    name,
    id: typeof rawId === 'number' ? rawId : serviceIdOf(name),
    vip,
    protocol: protocolRaw as Protocol,
    policy,
    endpoints,
    ...(probe ? { probe } : {}),
    at: check.at(node, fallback),
  };
  return crossCheck(check, service, ctx, node, vipEntry?.value) ? service : undefined;
}

/** `services:`: each checked on its own, then names, ids and VIPs across services. */
export function readServices(check: YamlChecker, node: unknown, fallback: unknown, ctx: ServiceContext): ServiceDef[] {
  const services: ServiceDef[] = [];
  const names = new Map<string, Position>();
  const ids = new Map<number, string>();
  const vips = new Map<string, string>();
  const items = check.items(node, fallback, 'services');
  if (items.length > LB_MAX_SERVICES) check.error(node, fallback, `services: at most ${LB_MAX_SERVICES} services (clusterset-socket-lb's LB_MAX_SERVICES)`);
  items.forEach((item, i) => {
    const service = readService(check, item, node, i, ctx);
    if (!service) return;
    const first = names.get(service.name);
    if (first) return check.error(item, node, `service name "${service.name}" is used twice (first at line ${first.line}:${first.col})`);
    names.set(service.name, service.at);
    const sameId = ids.get(service.id);
    if (sameId !== undefined) return check.error(item, node, `services ${sameId} and ${service.name} both have id ${service.id}: give one of them another "id:"`);
    ids.set(service.id, service.name);
    const vipKey = `${service.protocol} ${service.vip.text}`;
    const sameVip = vips.get(vipKey);
    if (sameVip !== undefined) return check.error(item, node, `services ${sameVip} and ${service.name} both use ${service.protocol} VIP ${service.vip.text}`);
    vips.set(vipKey, service.name);
    services.push(service);
  });
  return services;
}
