/**
 * A controller's connection to one node: SSH (one multiplexed connection), the probe, and — on first
 * use — the bootstrapped agent as an AgentClient, the same type the local agent gives, so every engine
 * call works unchanged against a node's kernel.
 */
import { performance } from 'node:perf_hooks';
import type { ClientChannel } from 'ssh2';
import type { AgentClient } from './agent-client';
import { resolveNode, type Inventory, type NodeTarget } from './inventory';
import { loadAgentPayload, type AgentPayload } from './payload';
import { bootstrapAgent, type BootstrapReport } from './ssh/bootstrap';
import { loadSshConfig, resolveDestination, type SshConfigSource, type SshDestination } from './ssh/config';
import { SshConnection, type SshConnectOptions } from './ssh/connection';
import { probeNode, type NodeProbe } from './ssh/probe';

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
  onUploadProgress?: (bytes: number, total: number) => void;
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
  /** The node's agent, bootstrapped on first use (and again if it died). */
  agent(): Promise<AgentClient>;
  /** Stops the agent channel and closes the connection. */
  close(): Promise<void>;
}

export async function connectNode(target: string | NodeTarget, options: ConnectNodeOptions = {}): Promise<NodeConnection> {
  const node = typeof target === 'string' ? resolveNode(target, options.inventory) : target;
  const config = options.sshConfig ?? loadSshConfig(options.sshConfigFile);
  const destination = resolveDestination(node.ssh, config);
  const payload = options.payload ?? loadAgentPayload();
  const sudo = options.sudo ?? node.sudo;
  const ssh = await SshConnection.open(destination, { ...options, config });
  let info: NodeProbe;
  const probeStarted = performance.now();
  try {
    info = await probeNode(ssh, payload.hash, sudo, node.name);
  } catch (err) {
    await ssh.close();
    throw err;
  }
  const timings: { connectMs: number; probeMs: number; bootstrap?: BootstrapReport } = { connectMs: ssh.timings.totalMs, probeMs: performance.now() - probeStarted };
  let running: Promise<{ client: AgentClient; channel: ClientChannel }> | undefined;
  let firstBootstrap = true;

  const start = async (): Promise<{ client: AgentClient; channel: ClientChannel }> => {
    const probe = firstBootstrap ? info : await probeNode(ssh, payload.hash, sudo, node.name);
    firstBootstrap = false;
    const { agent, report } = await bootstrapAgent(ssh, probe, node.name, {
      sudo,
      payload,
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      ...(options.onUploadProgress ? { onUploadProgress: options.onUploadProgress } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    timings.bootstrap = report;
    return { client: agent.client, channel: agent.channel };
  };

  return {
    target: node,
    destination,
    info,
    timings,
    ssh,
    bytes: () => ssh.bytes(),
    async agent() {
      const current = running ? await running.catch(() => undefined) : undefined;
      if (current && !current.client.isClosed) return current.client;
      const next = start();
      running = next;
      return (await next).client;
    },
    async close() {
      const current = running ? await running.catch(() => undefined) : undefined;
      current?.client.dispose();
      current?.channel.close();
      await ssh.close();
    },
  };
}
