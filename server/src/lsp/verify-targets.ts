import { dirname } from 'node:path';
import { connectNode, openInventory, resolveNode, SharedAttempt, startLocalAgent, type AgentClient, type AgentInfo, type BootstrapProgress, type NodeConnection } from '@ebpf-studio/remote-agent';
import { kernelKfuncs, kfuncDoc, type KfuncDoc } from '../knowledge/kfuncs';

/** What a target is doing while a caller waits for its agent: connecting, then the bootstrap's steps. */
export type TargetProgress = { readonly step: 'connect' } | BootstrapProgress;

/** How one caller waits for a target's agent. */
export interface TargetWait {
  /** Releases this caller at once; connecting and bootstrapping stop once no other caller waits for them. */
  signal?: AbortSignal;
  onProgress?: (progress: TargetProgress) => void;
}

/** What a look at a target finds without uploading anything: its agent, or (not installed yet) the kernel its probe found. */
export type TargetLook = { readonly agent: AgentClient } | { readonly kernelRelease: string };

/** Where verification runs: this machine's agent or a node's, kept connected between verifications. */
export interface VerifyTarget {
  readonly name: string;
  agent(wait?: TargetWait): Promise<AgentClient>;
  /** The agent when it runs or starts without an upload; else the kernel the node's probe found. Never uploads. */
  look(signal?: AbortSignal): Promise<TargetLook>;
  /** Its kernel's kfuncs: this machine's from its BTF read here; a node's from its agent, none when its probe found no BTF. */
  kfuncs(): Promise<KfuncDoc[]>;
  close(): Promise<void>;
}

function localTarget(log: (line: string) => void): VerifyTarget {
  let agent: AgentClient | undefined;
  const local = async (): Promise<AgentClient> => {
    if (!agent || agent.isClosed) agent = startLocalAgent({ log: (line) => log(`agent: ${line}`) });
    return agent;
  };
  return {
    name: 'local',
    agent: local,
    look: async () => ({ agent: await local() }),
    kfuncs: async () => kernelKfuncs(),
    close: async () => agent?.dispose(),
  };
}

/** Asks the person at the editor for an encrypted key's passphrase (undefined: skip that key). */
export type PassphrasePrompt = (keyFile: string, node: string) => Promise<string | undefined>;

/**
 * A node over SSH: one connection shared by every caller, opened on first use. A bootstrap that fails
 * (not one a caller cancelled) drops the connection, so the next use reads the inventory again.
 */
function nodeTarget(name: string, documentPath: string, options: { inventory: string; sshConfig: string }, passphrase: PassphrasePrompt | undefined, log: (line: string) => void): VerifyTarget {
  const connection = new SharedAttempt<NodeConnection>((signal) => {
    const inventory = openInventory(options.inventory ? { config: options.inventory } : { cwd: dirname(documentPath) });
    return connectNode(resolveNode(name, inventory), {
      ...(inventory ? { inventory } : {}),
      ...(options.sshConfig ? { sshConfigFile: options.sshConfig } : {}),
      ...(passphrase ? { passphrase: (keyFile: string) => passphrase(keyFile, name) } : {}),
      signal,
      log,
    });
  }, (c) => !c.ssh.isClosed);
  const connected = (wait: TargetWait): Promise<NodeConnection> => {
    if (connection.peek() === undefined) wait.onProgress?.({ step: 'connect' });
    return connection.get(wait.signal);
  };
  const agent = async (wait: TargetWait = {}): Promise<AgentClient> => {
    const c = await connected(wait);
    try {
      return await c.agent(wait);
    } catch (err) {
      if (!wait.signal?.aborted) {
        connection.discard(c);
        await c.close();
      }
      throw err;
    }
  };
  return {
    name,
    agent,
    look: async (signal) => {
      const c = await connected(signal ? { signal } : {});
      const agent = await c.installedAgent(signal);
      return agent ? { agent } : { kernelRelease: c.info.kernelRelease };
    },
    kfuncs: async () => {
      // Without BTF the preflight starts no agent; and no program could call a kfunc there anyway.
      if (!(await connected({})).info.btf) return [];
      return (await (await agent()).kfuncs()).kfuncs.map(kfuncDoc);
    },
    close: async () => {
      connection.abort(new Error(`${name}: the language server is closing its connections`));
      await (await connection.settled())?.close();
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
      target = name === 'local' ? localTarget(this.log) : nodeTarget(name, documentPath, options, this.passphrase, this.log);
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
