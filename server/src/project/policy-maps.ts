import { MapDeleteRequest, MapDumpRequest, MapUpdateRequest, type AgentClient, type MapEntry } from '@ebpf-studio/remote-agent';
import { compilePolicy, countsFromDump, LB_MAPS, planApply, serviceStatus, type HealthState, type MapOp, type Policy, type ServiceStatus } from '../policy';

/**
 * The running maps of a session, through its agent: the policy written into lb_services/lb_backends
 * (planApply's order, only what differs) and the counters read back from lb_stats.
 */

const PAGE = 1000;
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

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

export interface PolicyWrite {
  readonly updates: number;
  readonly deletes: number;
}

/** Makes the session's policy maps hold exactly what `policy` under `health` compiles to. */
export async function writePolicy(agent: AgentClient, session: string, policy: Policy, health: HealthState): Promise<PolicyWrite> {
  const current = new Map<string, Uint8Array[]>();
  for (const map of [LB_MAPS.services, LB_MAPS.backends]) {
    current.set(map, (await dumpAll(agent, session, map)).map((e) => Buffer.from(e.keyHex, 'hex')));
  }
  const ops: MapOp[] = planApply(compilePolicy(policy, health), current);
  for (const op of ops) {
    if (op.op === 'update') await agent.request(MapUpdateRequest, { id: session, map: op.map, key: hex(op.key), value: hex(op.value) });
    else await agent.request(MapDeleteRequest, { id: session, map: op.map, key: hex(op.key) });
  }
  return { updates: ops.filter((o) => o.op === 'update').length, deletes: ops.filter((o) => o.op === 'delete').length };
}

/** Per service and cluster: lb_stats' counts next to the split the policy asks for under `health`. */
export async function readStatus(agent: AgentClient, session: string, policy: Policy, health: HealthState): Promise<ServiceStatus[]> {
  const entries = await dumpAll(agent, session, LB_MAPS.stats);
  return serviceStatus(policy, health, countsFromDump(entries));
}
