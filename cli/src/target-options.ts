import { connectNode, openInventory, resolveCluster, resolveNode, type Inventory, type NodeTarget } from '@ebpf-studio/remote-agent';
import { localTarget, type AgentTarget } from './agent-target';
import { UsageFailure } from './exit-codes';

/** Options every node-aware command takes (parseArgs format). */
export const TARGET_OPTIONS = {
  node: { type: 'string' },
  config: { type: 'string' },
  'ssh-config': { type: 'string' },
  'accept-new-host-key': { type: 'boolean', default: false },
} as const;

export interface TargetValues {
  node?: string | undefined;
  config?: string | undefined;
  'ssh-config'?: string | undefined;
  'accept-new-host-key'?: boolean | undefined;
}

function inventory(values: TargetValues): Inventory | undefined {
  return openInventory(values.config !== undefined ? { config: values.config } : {});
}

/** Connect to one node's agent over SSH (bootstrapping it when needed). */
export async function nodeTarget(node: NodeTarget, values: TargetValues, inv: Inventory | undefined): Promise<AgentTarget> {
  const connection = await connectNode(node, {
    ...(inv ? { inventory: inv } : {}),
    ...(values['ssh-config'] ? { sshConfigFile: values['ssh-config'] } : {}),
    acceptNewHostKey: values['accept-new-host-key'] ?? false,
  });
  try {
    const agent = await connection.agent();
    return { agent, label: node.name, close: () => connection.close() };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

/** The agent a command talks to: this machine's, or the --node's. */
export async function openTarget(values: TargetValues): Promise<AgentTarget> {
  if (values.node === undefined) return localTarget();
  const inv = inventory(values);
  return nodeTarget(resolveNode(values.node, inv), values, inv);
}

/** The nodes named by repeated --node and --cluster (in that order, each once). */
export function selectNodes(nodes: readonly string[], clusters: readonly string[], values: TargetValues): { targets: NodeTarget[]; inventory: Inventory | undefined } {
  const inv = inventory(values);
  const targets = [...nodes.map((n) => resolveNode(n, inv)), ...clusters.flatMap((c) => resolveCluster(c, inv))];
  if (clusters.length > 0 && targets.length === nodes.length) throw new UsageFailure(`cluster ${clusters.join(', ')} has no nodes in ${inv ? 'ebpf-studio.yaml' : '(no ebpf-studio.yaml found)'}`);
  const seen = new Set<string>();
  return { targets: targets.filter((t) => !seen.has(t.name) && seen.add(t.name)), inventory: inv };
}
