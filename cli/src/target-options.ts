import { localTarget, type AgentTarget } from './agent-target';

/** Options every node-aware command takes (parseArgs format). */
export const TARGET_OPTIONS = {
  node: { type: 'string' },
} as const;

/** The agent a command talks to: this machine's, or the --node's. */
export async function openTarget(values: { node?: string | undefined }): Promise<AgentTarget> {
  if (values.node === undefined) return localTarget();
  throw new Error('--node is not wired yet');
}
