import { openInventory, SessionListRequest, type Inventory, type NodeTarget } from '@ebpf-studio/remote-agent';
import type { NodeSummary, NodesParams } from '../studio-protocol';
import { agentOf, fail, type StudioContext } from './context';
import type { OwnedSessions } from './owned-sessions';

const DEFAULT_TIMEOUT_MS = 20_000;

function inventoryOf(ctx: StudioContext): Inventory {
  const configured = ctx.settings().inventory;
  let inventory: Inventory | undefined;
  try {
    inventory = openInventory(configured ? { config: configured } : { cwd: ctx.workspaceFolder() ?? process.cwd() });
  } catch (err) {
    fail((err as Error).message);
  }
  if (!inventory) fail('no ebpf-studio.yaml in the workspace folder or above: create one with clusters and nodes, or set ebpfStudio.inventory');
  return inventory;
}

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function probe(ctx: StudioContext, owned: OwnedSessions, node: NodeTarget, timeoutMs: number): Promise<NodeSummary> {
  const base = { ...(node.cluster ? { cluster: node.cluster } : {}), name: node.name, ssh: node.ssh };
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

/** The inventory's nodes, probed in parallel (kernel, sessions with attachments and maps), each within the timeout. */
export function nodes(ctx: StudioContext, owned: OwnedSessions, params: NodesParams | undefined): Promise<NodeSummary[]> {
  const inventory = inventoryOf(ctx);
  return Promise.all(inventory.nodes.map((n) => probe(ctx, owned, n, params?.timeoutMs ?? DEFAULT_TIMEOUT_MS)));
}
