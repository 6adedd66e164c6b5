import { dirname } from 'node:path';
import { connectNode, openInventory, resolveNode, startLocalAgent, type AgentClient, type AgentInfo, type NodeConnection } from '@ebpf-studio/remote-agent';

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

/** Why this machine's kernel cannot verify, from its agent's facts (or the error starting it); undefined: it can. */
export function localProblem(facts: AgentInfo | Error): string | undefined {
  if (facts instanceof Error) return facts.message.replace(/^local agent: /, '');
  return facts.problems.length > 0 ? facts.problems.join('; ') : undefined;
}

/** Where a document verifies when `ebpfStudio.verifyTarget` is left at its default ('local'). */
export type DefaultTarget =
  | { kind: 'local' }
  /** This machine cannot verify; the first node of the ebpf-studio.yaml found verifies instead. */
  | { kind: 'fallback'; node: string; inventory: string; reason: string }
  /** This machine cannot verify and there is no node to verify on. */
  | { kind: 'none'; reason: string; inventory?: string };

/**
 * The decision for the default target: 'local' while this machine's agent can verify; else the first
 * node of the inventory (the `inventory` setting's file, else the ebpf-studio.yaml found upwards from
 * the document); else none. An unreadable inventory counts as none (its own diagnostics say why).
 */
export function defaultTarget(problem: string | undefined, documentPath: string, inventory: string): DefaultTarget {
  if (problem === undefined) return { kind: 'local' };
  let found;
  try {
    found = openInventory(inventory ? { config: inventory } : { cwd: dirname(documentPath) });
  } catch {
    found = undefined;
  }
  const first = found?.nodes[0];
  if (!first) return { kind: 'none', reason: problem, ...(found ? { inventory: found.path } : {}) };
  return { kind: 'fallback', node: first.name, inventory: found!.path, reason: problem };
}
