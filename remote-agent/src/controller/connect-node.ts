/**
 * A controller's connection to one node: SSH (one multiplexed connection), the probe, and — on first
 * use — the bootstrapped agent as an AgentClient, the same type the local agent gives, so every engine
 * call works unchanged against a node's kernel. Connecting and bootstrapping can be cancelled: each
 * caller of agent() may leave with its AbortSignal, and the bootstrap stops when no caller is left — in
 * the middle of an upload by resetting the connection (nothing queued is sent; connect again).
 */
import { performance } from 'node:perf_hooks';
import { AgentError, type AgentClient } from './agent-client';
import { resolveNode, type Inventory, type NodeTarget } from './inventory';
import { loadAgentPayload, type AgentPayload } from './payload';
import { raceAbort, SharedAttempt } from './shared-attempt';
import type { RemoteAgent } from './ssh/agent-channel';
import { bootstrapAgent, type BootstrapProgress, type BootstrapReport } from './ssh/bootstrap';
import { loadSshConfig, resolveDestination, type SshConfigSource, type SshDestination } from './ssh/config';
import { SshConnection, type SshConnectOptions } from './ssh/connection';
import { preflight, probeNode, type NodeProbe } from './ssh/probe';

export interface ConnectNodeOptions extends SshConnectOptions {
  /** Resolves node names; without it a target is an ssh alias or user@host[:port]. */
  inventory?: Inventory;
  /** Like `ssh -F FILE`: only this file, not ~/.ssh/config and /etc/ssh/ssh_config. */
  sshConfigFile?: string;
  /** An already loaded configuration (wins over sshConfigFile). */
  sshConfig?: SshConfigSource;
  /** Overrides the inventory's `sudo` for this node. */
  sudo?: boolean;
  /** Default: this installation's bundled agent (dist/). */
  payload?: AgentPayload;
  /** Where fetched packages (Node runtime, koffi for arm64) are cached on this machine. */
  cacheDir?: string;
  /** Every bootstrap's upload: bytes so far and the total planned. */
  onUploadProgress?: (bytes: number, total: number) => void;
  /** Abandons connecting: rejects with the signal's reason at once (a connection that opens later is closed). */
  signal?: AbortSignal;
}

/** How one caller waits for the node's agent. */
export interface AgentWait {
  /** Releases this caller at once; the bootstrap under way stops once no other caller waits for it. */
  signal?: AbortSignal;
  /** The bootstrap's steps while this caller waits. */
  onProgress?: (progress: BootstrapProgress) => void;
}

export interface NodeConnectionTimings {
  /** TCP + SSH handshake + authentication (jump hosts included), ms. */
  readonly connectMs: number;
  readonly probeMs: number;
  /** Set once agent() has bootstrapped (the last bootstrap, if the agent had to be restarted). */
  readonly bootstrap?: BootstrapReport;
}

export interface NodeConnection {
  readonly target: NodeTarget;
  readonly destination: SshDestination;
  /** What the probe found on the node (kernel, architecture, Node.js, privileges, BTF, libbpf, clang). */
  readonly info: NodeProbe;
  readonly timings: NodeConnectionTimings;
  /** The SSH connection, for other channels to the node (the agent has its own). */
  readonly ssh: SshConnection;
  /** Bytes on the wire so far. */
  bytes(): { sent: number; received: number };
  /** The node's agent, bootstrapped on first use (and again if it died, or the last bootstrap failed or was cancelled before uploading). */
  agent(wait?: AgentWait): Promise<AgentClient>;
  /**
   * The agent if it runs or starts without uploading anything (the node has this agent and a Node.js);
   * undefined when starting it would upload, or a bootstrap is under way. Throws what keeps the agent
   * from working there (preflight), as agent() would.
   */
  installedAgent(signal?: AbortSignal): Promise<AgentClient | undefined>;
  /** Stops a bootstrap under way and the agent channel, and closes the connection. */
  close(): Promise<void>;
}

export async function connectNode(target: string | NodeTarget, options: ConnectNodeOptions = {}): Promise<NodeConnection> {
  const { signal } = options;
  signal?.throwIfAborted();
  const node = typeof target === 'string' ? resolveNode(target, options.inventory) : target;
  const config = options.sshConfig ?? loadSshConfig(options.sshConfigFile);
  const destination = resolveDestination(node.ssh, config);
  const payload = options.payload ?? loadAgentPayload();
  const sudo = options.sudo ?? node.sudo;
  const ssh = await raceAbort(SshConnection.open(destination, { ...options, config }), signal, (late) => void late.close());
  let info: NodeProbe;
  const probeStarted = performance.now();
  try {
    info = await raceAbort(probeNode(ssh, payload.hash, sudo, node.name), signal);
  } catch (err) {
    await ssh.close();
    throw err;
  }
  const timings: { connectMs: number; probeMs: number; bootstrap?: BootstrapReport } = { connectMs: ssh.timings.totalMs, probeMs: performance.now() - probeStarted };
  /** The connection's probe serves the first bootstrap; later ones probe again. */
  let unusedProbe: NodeProbe | undefined = info;
  const watchers = new Set<(progress: BootstrapProgress) => void>();

  const bootstrap = new SharedAttempt<RemoteAgent>(async (aborted) => {
    const probe = unusedProbe ?? (await raceAbort(probeNode(ssh, payload.hash, sudo, node.name), aborted));
    unusedProbe = undefined;
    const { agent, report } = await bootstrapAgent(ssh, probe, node.name, {
      sudo,
      payload,
      signal: aborted,
      onProgress: (progress) => {
        for (const watch of watchers) watch(progress);
      },
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      ...(options.onUploadProgress ? { onUploadProgress: options.onUploadProgress } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    timings.bootstrap = report;
    return agent;
  }, (agent) => !agent.client.isClosed);

  const agent = async (wait: AgentWait = {}): Promise<AgentClient> => {
    const { onProgress } = wait;
    const watch = (progress: BootstrapProgress): void => onProgress?.(progress);
    watchers.add(watch);
    try {
      return (await bootstrap.get(wait.signal)).client;
    } finally {
      watchers.delete(watch);
    }
  };

  return {
    target: node,
    destination,
    info,
    timings,
    ssh,
    bytes: () => ssh.bytes(),
    agent,
    async installedAgent(signal?: AbortSignal) {
      if (bootstrap.running) return undefined;
      const running = await bootstrap.settled();
      if (running && !running.client.isClosed) return running.client;
      const probe = unusedProbe ?? (await raceAbort(probeNode(ssh, payload.hash, sudo, node.name), signal));
      preflight(probe, sudo, node.name);
      if (probe.payload !== 'complete' || !probe.nodePath) return undefined;
      return agent(signal ? { signal } : {});
    },
    async close() {
      bootstrap.abort(new AgentError(`${node.name}: the connection was closed`, { kind: 'Error' }, node.name));
      const running = await bootstrap.settled();
      running?.client.dispose();
      running?.channel.close();
      await ssh.close();
    },
  };
}
