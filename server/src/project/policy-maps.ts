import { MapDeleteRequest, MapDumpRequest, MapUpdateRequest, type AgentClient, type MapEntry } from '@ebpf-studio/remote-agent';
import { UsageError } from '../engine/usage-error';
import {
  compileGatewayPolicy,
  compileNatPolicy,
  compilePolicy,
  compileRules,
  countsFromDump,
  findTemplate,
  GW_BACKEND,
  GW_MAPS,
  LB_MAPS,
  listTemplates,
  NAT_BACKEND,
  NAT_MAPS,
  NAT_SERVICE,
  planWrites,
  serviceStatus,
  type CompiledMap,
  type HealthState,
  type MapEntryBytes,
  type MapOp,
  type Policy,
  type ProgramDef,
  type ServiceStatus,
  type StructLayout,
  type TemplateManifest,
  VIP_KEY,
  VIP_META,
} from '../policy';

/**
 * The running maps of a session, through its agent: the policy written into the policy maps of every
 * loaded template that has a compiler (template.json's `policy`: `socket-lb`, `maglev-gateway`,
 * `cluster-nat`, `cgroup-rules`), in each compiler's order and only what differs from the maps' keys,
 * and the counters read back from lb_stats.
 */

const PAGE = 1000;
/** Writes of one stage (one map, one kind) in flight at once: they do not depend on each other. */
const PIPELINE = 256;
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * The agent's dump answers keys as bytes but values decoded by BTF; the compilers that read values back
 * (slots and rings in use) get them re-encoded with the layouts the tests hold against the same BTF.
 */
const VALUE_LAYOUTS: Readonly<Record<string, StructLayout | number>> = {
  [GW_MAPS.vips]: 4,
  [GW_MAPS.vipTable]: VIP_META,
  [GW_MAPS.backends]: GW_BACKEND,
  [NAT_MAPS.services]: NAT_SERVICE,
  [NAT_MAPS.backends]: NAT_BACKEND,
};
const NESTED: Readonly<Record<string, StructLayout>> = { 'vip_meta.vip': VIP_KEY };

function writeDecoded(out: Uint8Array, offset: number, size: number, value: unknown, layout?: StructLayout): void {
  if (layout && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [name, f] of Object.entries(layout.fields)) writeDecoded(out, offset + f.offset, f.size, (value as Record<string, unknown>)[name], NESTED[`${layout.name}.${name}`]);
  } else if (Array.isArray(value) && value.length > 0) {
    const each = Math.floor(size / value.length);
    value.forEach((v, i) => writeDecoded(out, offset + i * each, each, v));
  } else if (typeof value === 'string' && !/^-?\d+$/.test(value)) {
    out.set(Buffer.from(value, 'latin1').subarray(0, size), offset);
  } else if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    let v = BigInt.asUintN(size * 8, BigInt(typeof value === 'boolean' ? Number(value) : value));
    for (let i = 0; i < size; i++, v >>= 8n) out[offset + i] = Number(v & 0xffn);
  }
}

export function valueBytes(map: string, decoded: unknown): Uint8Array {
  const layout = VALUE_LAYOUTS[map];
  if (layout === undefined) return new Uint8Array(0);
  const size = typeof layout === 'number' ? layout : layout.size;
  const out = new Uint8Array(size);
  writeDecoded(out, 0, size, decoded, typeof layout === 'number' ? undefined : layout);
  return out;
}

/** How the writer reaches a set of maps by name: a session through its agent, or loaded objects in a test. */
export interface PolicyMapAccess {
  dump(map: string): Promise<MapEntryBytes[]>;
  update(map: string, key: Uint8Array, value: Uint8Array): Promise<void>;
  delete(map: string, key: Uint8Array): Promise<void>;
}

async function dumpAll(agent: AgentClient, session: string, map: string): Promise<MapEntry[]> {
  const entries: MapEntry[] = [];
  let after: string | undefined;
  do {
    const page = await agent.request(MapDumpRequest, { id: session, map, pageSize: PAGE, ...(after ? { after } : {}) });
    entries.push(...page.entries);
    after = page.next;
  } while (after);
  return entries;
}

/** A session's maps through its agent. */
export function sessionMaps(agent: AgentClient, session: string): PolicyMapAccess {
  return {
    dump: async (map) => (await dumpAll(agent, session, map)).map((e) => ({ key: new Uint8Array(Buffer.from(e.keyHex, 'hex')), value: valueBytes(map, e.value) })),
    update: async (map, key, value) => agent.request(MapUpdateRequest, { id: session, map, key: hex(key), value: hex(value) }),
    delete: async (map, key) => agent.request(MapDeleteRequest, { id: session, map, key: hex(key) }),
  };
}

export interface PolicyWrite {
  readonly updates: number;
  readonly deletes: number;
}

/** The policy compilers template.json's `policy` names, each with the maps it reads back first. */
export const POLICY_COMPILERS = ['socket-lb', 'maglev-gateway', 'cluster-nat', 'cgroup-rules'] as const;
export type PolicyCompiler = (typeof POLICY_COMPILERS)[number];

export function isPolicyCompiler(value: string | undefined): value is PolicyCompiler {
  return (POLICY_COMPILERS as readonly string[]).includes(value ?? '');
}

/** The programs of `policy` whose template has a policy compiler, with the template. */
export function policyPrograms(policy: Policy, templates = listTemplates()): { program: ProgramDef; template: TemplateManifest; compiler: PolicyCompiler }[] {
  return policy.programs.flatMap((program) => {
    const template = findTemplate(templates, program.template);
    return template && isPolicyCompiler(template.policy) ? [{ program, template, compiler: template.policy }] : [];
  });
}

function ringSize(program: ProgramDef, template: TemplateManifest): number {
  const value = program.settings['ring_size'] ?? template.parameters.find((p) => p.name === 'ring_size')?.default;
  if (typeof value !== 'number') throw new UsageError(`program ${program.name}: ring_size is not a number`);
  return value;
}

async function current(access: PolicyMapAccess, maps: readonly string[]): Promise<Map<string, MapEntryBytes[]>> {
  const out = new Map<string, MapEntryBytes[]>();
  for (const map of maps) out.set(map, await access.dump(map));
  return out;
}

/** The ordered writes that make one compiler's maps hold what `policy` under `health` compiles to. */
export async function planPolicyWrites(access: PolicyMapAccess, compiler: PolicyCompiler, programs: readonly { program: ProgramDef; template: TemplateManifest }[], policy: Policy, health: HealthState): Promise<MapOp[]> {
  const first = programs[0]!;
  let maps: readonly CompiledMap[];
  let now: Map<string, MapEntryBytes[]>;
  switch (compiler) {
    case 'socket-lb':
      now = await current(access, [LB_MAPS.services, LB_MAPS.backends]);
      maps = compilePolicy(policy, health).maps;
      break;
    case 'maglev-gateway':
      now = await current(access, [GW_MAPS.backends, GW_MAPS.vipTable, GW_MAPS.vips]);
      maps = compileGatewayPolicy(policy, health, { ringSize: ringSize(first.program, first.template), ...(first.program.nextHop ? { nextHop: first.program.nextHop } : {}), current: now }).maps;
      break;
    case 'cluster-nat':
      now = await current(access, [NAT_MAPS.backends, NAT_MAPS.services]);
      maps = compileNatPolicy(policy, health, { ringSize: ringSize(first.program, first.template), current: now }).maps;
      break;
    case 'cgroup-rules':
      now = await current(access, ['rules']);
      maps = compileRules(programs.flatMap((p) => p.program.rules ?? [])).maps;
      break;
  }
  return planWrites({ maps }, now);
}

/** Runs writes in order; consecutive writes of the same map and kind go out together. */
async function runOps(access: PolicyMapAccess, ops: readonly MapOp[]): Promise<void> {
  for (let i = 0; i < ops.length; ) {
    let j = i;
    while (j < ops.length && j - i < PIPELINE && ops[j]!.op === ops[i]!.op && ops[j]!.map === ops[i]!.map) j++;
    await Promise.all(ops.slice(i, j).map((op) => (op.op === 'update' ? access.update(op.map, op.key, op.value) : access.delete(op.map, op.key))));
    i = j;
  }
}

/**
 * Makes the policy maps of every loaded template with a compiler hold exactly what `policy` under `health`
 * compiles to (the programs are `policy.programs`; each compiler's maps are reached by name).
 */
export async function applyPolicyMaps(access: PolicyMapAccess, policy: Policy, health: HealthState, templates = listTemplates()): Promise<PolicyWrite> {
  const byCompiler = new Map<PolicyCompiler, { program: ProgramDef; template: TemplateManifest }[]>();
  for (const p of policyPrograms(policy, templates)) byCompiler.set(p.compiler, [...(byCompiler.get(p.compiler) ?? []), p]);
  let updates = 0;
  let deletes = 0;
  for (const [compiler, programs] of byCompiler) {
    const ops = await planPolicyWrites(access, compiler, programs, policy, health);
    await runOps(access, ops);
    updates += ops.filter((o) => o.op === 'update').length;
    deletes += ops.filter((o) => o.op === 'delete').length;
  }
  return { updates, deletes };
}

/** Makes the session's policy maps hold exactly what `policy` under `health` compiles to. */
export async function writePolicy(agent: AgentClient, session: string, policy: Policy, health: HealthState): Promise<PolicyWrite> {
  return applyPolicyMaps(sessionMaps(agent, session), policy, health);
}

/** Per service and cluster: lb_stats' counts next to the split the policy asks for under `health` (none without a socket-lb program). */
export async function readStatus(agent: AgentClient, session: string, policy: Policy, health: HealthState): Promise<ServiceStatus[]> {
  if (policy.programs.length > 0 && !policyPrograms(policy).some((p) => p.compiler === 'socket-lb')) return [];
  const entries = await dumpAll(agent, session, LB_MAPS.stats);
  return serviceStatus(policy, health, countsFromDump(entries));
}
