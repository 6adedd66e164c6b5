import { openInventory, SessionListRequest, type Inventory, type NodeTarget } from '@ebpf-studio/remote-agent';
import type { NodeSummary, NodesParams } from '../studio-protocol';
import { agentOf, fail, type StudioContext } from './context';
import type { OwnedSessions } from './owned-sessions';

const DEFAULT_TIMEOUT_MS = 20_000;

/** This machine, reached through the local agent as verification and `ebpf-studio run` reach it. */
const LOCAL: NodeTarget = { name: 'local', ssh: 'local', sudo: false };

/** The inventory's nodes; none when the workspace has no ebpf-studio.yaml at its root or above and the setting names none. */
function inventoryNodes(ctx: StudioContext): readonly NodeTarget[] {
  const configured = ctx.settings().inventory;
  let inventory: Inventory | undefined;
  try {
    inventory = openInventory(configured ? { config: configured } : { cwd: ctx.workspaceFolder() ?? process.cwd() });
  } catch (err) {
    fail((err as Error).message);
  }
  // a node named "local" would be this machine anyway: the agent of 'local' is always the local one
  return (inventory?.nodes ?? []).filter((n) => n.name !== LOCAL.name);
}

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function probe(ctx: StudioContext, owned: OwnedSessions, node: NodeTarget, timeoutMs: number): Promise<NodeSummary> {
  const base = { ...(node.cluster ? { cluster: node.cluster } : {}), name: node.name, ...(node === LOCAL ? {} : { ssh: node.ssh }) };
  try {
    const { info, sessions } = await within(
      (async () => {
        const agent = await agentOf(ctx, node.name);
        const [info, sessions] = await Promise.all([agent.info(), agent.request(SessionListRequest)]);
        return { info, sessions };
      })(),
      timeoutMs,
    );
    return {
      ...base,
      reachable: true,
      kernel: info.kernelRelease,
      sessions: sessions.map((s) => ({
        id: s.id,
        name: s.name,
        ...(owned.get(node.name, s.id) ? { owned: true } : {}),
        attachments: s.attachments.map((a) => ({ id: a.id, program: a.program, target: JSON.stringify(a.target), mechanism: a.mechanism })),
        maps: s.maps.map((m) => ({ name: m.name, type: m.type })),
      })),
    };
  } catch (err) {
    return { ...base, reachable: false, error: (err as Error).message, sessions: [] };
  }
}

/**
 * This machine first, then the inventory's nodes, probed in parallel (kernel, sessions with attachments and
 * maps), each within the timeout. Every session of a node is listed, also those other processes opened
 * (an `ebpf-studio run` in a terminal, an `ebpf-studio attach`), so their maps and traces can be reached.
 */
export function nodes(ctx: StudioContext, owned: OwnedSessions, params: NodesParams | undefined): Promise<NodeSummary[]> {
  return Promise.all([LOCAL, ...inventoryNodes(ctx)].map((n) => probe(ctx, owned, n, params?.timeoutMs ?? DEFAULT_TIMEOUT_MS)));
}
