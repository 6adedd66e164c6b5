import { startLocalAgent, type AgentClient } from '@ebpf-studio/remote-agent';

/** An agent to talk to (this machine's, or a node's over SSH) and how to let it go. */
export interface AgentTarget {
  agent: AgentClient;
  /** 'local' or the node's name. */
  label: string;
  close(): Promise<void>;
}

export function localTarget(): AgentTarget {
  const agent = startLocalAgent({ log: (line) => process.stderr.write(`agent: ${line}\n`) });
  return {
    agent,
    label: 'local',
    close: async () => agent.dispose(),
  };
}
