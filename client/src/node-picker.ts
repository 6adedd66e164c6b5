import { StudioMethods, type NodeSummary, type NodesParams } from '@ebpf-studio/studio-protocol';
import { ProgressLocation, window, type QuickPickItem } from 'vscode';
import type { Studio } from './studio';

interface NodeItem extends QuickPickItem {
  node: string;
}

/** This machine and the nodes of the inventory (ebpf-studio.yaml), probed by the server; a notification with Retry when that fails. */
export function listNodes(studio: Studio): Promise<NodeSummary[] | undefined> {
  return studio.withRetry('Listing the nodes', () =>
    window.withProgress({ location: ProgressLocation.Window, title: 'eBPF: probing nodes' }, (_p, token) =>
      studio.request<NodeSummary[]>(StudioMethods.nodes, {} satisfies NodesParams, token),
    ),
  );
}

/** The server lists this machine ('local') first, then the inventory's nodes. */
function items(nodes: readonly NodeSummary[]): NodeItem[] {
  return nodes.map((n) => ({
    node: n.name,
    label: n.reachable ? n.name : `$(warning) ${n.name}`,
    description: [n.ssh === undefined ? 'this machine' : n.cluster, n.kernel ? `kernel ${n.kernel}` : undefined, n.agentInstalled === false ? 'agent not installed yet' : undefined].filter(Boolean).join(' · '),
    ...(n.reachable ? {} : { detail: `unreachable: ${n.error ?? 'no answer'}` }),
  }));
}

/** Pick one node ('local' included); undefined when cancelled. */
export async function pickNode(studio: Studio, title: string): Promise<string | undefined> {
  const nodes = await listNodes(studio);
  if (!nodes) return undefined;
  return (await window.showQuickPick(items(nodes), { title, placeHolder: 'node', matchOnDescription: true }))?.node;
}

/** Pick several nodes ('local' included); undefined when cancelled or nothing was picked. */
export async function pickNodes(studio: Studio, title: string): Promise<string[] | undefined> {
  const nodes = await listNodes(studio);
  if (!nodes) return undefined;
  const picked = await window.showQuickPick(items(nodes), { title, placeHolder: 'nodes whose kernels verify', canPickMany: true, matchOnDescription: true });
  return picked && picked.length > 0 ? picked.map((p) => p.node) : undefined;
}
