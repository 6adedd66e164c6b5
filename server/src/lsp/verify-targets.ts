import { dirname } from 'node:path';
import { connectNode, openInventory, resolveNode, startLocalAgent, type AgentClient, type NodeConnection } from '@ebpf-studio/remote-agent';

/** Where verification runs: this machine's agent or a node's, kept connected between verifications. */
export interface VerifyTarget {
  readonly name: string;
  agent(): Promise<AgentClient>;
  close(): Promise<void>;
}

function localTarget(log: (line: string) => void): VerifyTarget {
  let agent: AgentClient | undefined;
  return {
    name: 'local',
    agent: async () => {
      if (!agent || agent.isClosed) agent = startLocalAgent({ log: (line) => log(`agent: ${line}`) });
      return agent;
    },
    close: async () => agent?.dispose(),
  };
}

/** Asks the person at the editor for an encrypted key's passphrase (undefined: skip that key). */
export type PassphrasePrompt = (keyFile: string, node: string) => Promise<string | undefined>;

function nodeTarget(name: string, documentPath: string, options: { inventory: string; sshConfig: string }, passphrase: PassphrasePrompt | undefined): VerifyTarget {
  let connection: Promise<NodeConnection> | undefined;
  const connect = (): Promise<NodeConnection> => {
    const inventory = openInventory(options.inventory ? { config: options.inventory } : { cwd: dirname(documentPath) });
    return connectNode(resolveNode(name, inventory), {
      ...(inventory ? { inventory } : {}),
      ...(options.sshConfig ? { sshConfigFile: options.sshConfig } : {}),
      ...(passphrase ? { passphrase: (keyFile: string) => passphrase(keyFile, name) } : {}),
    });
  };
  return {
    name,
    agent: async () => {
      connection ??= connect();
      try {
        return await (await connection).agent();
      } catch (err) {
        connection = undefined;
        throw err;
      }
    },
    close: async () => {
      const c = await connection?.catch(() => undefined);
      await c?.close();
    },
  };
}

/** The verify targets named in the settings, created on first use and reused while the settings stay. */
export class VerifyTargets {
  private readonly targets = new Map<string, VerifyTarget>();

  constructor(
    private readonly log: (line: string) => void,
    private readonly passphrase?: PassphrasePrompt,
  ) {}

  get(name: string, documentPath: string, options: { inventory: string; sshConfig: string }): VerifyTarget {
    const key = `${name}\0${options.inventory}\0${options.sshConfig}`;
    let target = this.targets.get(key);
    if (!target) {
      target = name === 'local' ? localTarget(this.log) : nodeTarget(name, documentPath, options, this.passphrase);
      this.targets.set(key, target);
    }
    return target;
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.targets.values()].map((t) => t.close()));
    this.targets.clear();
  }
}
