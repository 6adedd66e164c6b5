import { openInventory, raceAbort, SessionListRequest, type Inventory, type NodeTarget } from '@ebpf-studio/remote-agent';
import type { CancellationToken } from 'vscode-languageserver/node';
import type { NodeSummary, NodesParams } from '../studio-protocol';
import { fail, targetOf, type StudioContext } from './context';
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

/** Fires when the request is cancelled or `ms` have passed, whichever comes first. */
function deadline(token: CancellationToken, ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${ms} ms`)), ms);
  const listener = token.onCancellationRequested(() => controller.abort(new Error('cancelled')));
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      listener.dispose();
    },
  };
}

/**
 * One node: its kernel and sessions. Looking never uploads our agent: a node that has never had it is
 * listed with the kernel its probe found and agentInstalled false (the first verify or attach there
 * uploads it, with a progress the user can cancel).
 */
async function probe(ctx: StudioContext, owned: OwnedSessions, node: NodeTarget, timeoutMs: number, token: CancellationToken): Promise<NodeSummary> {
  const base = { ...(node.cluster ? { cluster: node.cluster } : {}), name: node.name, ...(node === LOCAL ? {} : { ssh: node.ssh }) };
  const { signal, clear } = deadline(token, timeoutMs);
  try {
    const look = await targetOf(ctx, node.name).look(signal);
    if (!('agent' in look)) return { ...base, reachable: true, kernel: look.kernelRelease, agentInstalled: false, sessions: [] };
    const [info, sessions] = await raceAbort(Promise.all([look.agent.info(), look.agent.request(SessionListRequest)]), signal);
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
  } finally {
    clear();
  }
}

/**
 * This machine first, then the inventory's nodes, probed in parallel (kernel, sessions with attachments and
 * maps), each within the timeout. Every session of a node is listed, also those other processes opened
 * (an `ebpf-studio run` in a terminal, an `ebpf-studio attach`), so their maps and traces can be reached.
 */
export function nodes(ctx: StudioContext, owned: OwnedSessions, params: NodesParams | undefined, token: CancellationToken): Promise<NodeSummary[]> {
  return Promise.all([LOCAL, ...inventoryNodes(ctx)].map((n) => probe(ctx, owned, n, params?.timeoutMs ?? DEFAULT_TIMEOUT_MS, token)));
}
