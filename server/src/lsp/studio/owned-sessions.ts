import { SessionController, type AgentClient } from '@ebpf-studio/remote-agent';

interface Owned {
  readonly node: string;
  readonly controller: SessionController;
  agent: AgentClient;
  resuming?: Promise<void>;
}

/**
 * The sessions this language server opened: heartbeated while it runs (resumed over a new agent
 * connection when one drops), closed when it shuts down; if it dies instead, each rolls back by lease.
 */
export class OwnedSessions {
  private readonly sessions = new Map<string, Owned>();

  constructor(
    /** The node's agent now (a new one after a dropped connection). */
    private readonly agentOf: (node: string) => Promise<AgentClient>,
    private readonly log: (line: string) => void,
  ) {}

  async open(node: string, agent: AgentClient, name: string, leaseMs: number): Promise<SessionController> {
    let owned: Owned | undefined;
    const controller = await SessionController.open(agent, { name, leaseMs }, (message) => {
      this.log(`session on ${node}: ${message}`);
      if (owned) this.resume(owned);
    });
    owned = { node, controller, agent };
    this.sessions.set(key(node, controller.handle.id), owned);
    return controller;
  }

  private resume(owned: Owned): void {
    if (owned.resuming || !owned.agent.isClosed) return;
    owned.resuming = (async () => {
      const agent = await this.agentOf(owned.node);
      await owned.controller.resume(agent);
      owned.agent = agent;
      this.log(`session ${owned.controller.handle.id} on ${owned.node} resumed over a new connection`);
    })()
      .catch((err: Error) => this.log(`session ${owned.controller.handle.id} on ${owned.node} could not be resumed: ${err.message}`))
      .finally(() => {
        owned.resuming = undefined;
      });
  }

  get(node: string, session: string): SessionController | undefined {
    return this.sessions.get(key(node, session))?.controller;
  }

  /** Closes one session (the node detaches everything it holds). */
  async close(node: string, session: string): Promise<void> {
    const owned = this.sessions.get(key(node, session));
    if (!owned) return;
    this.sessions.delete(key(node, session));
    await owned.controller.close();
  }

  /** Closes every session this server opened; a failure is logged (its lease still rolls it back). */
  async closeAll(): Promise<void> {
    await Promise.all(
      [...this.sessions.values()].map((o) => this.close(o.node, o.controller.handle.id).catch((err: Error) => this.log(`closing session ${o.controller.handle.id} on ${o.node}: ${err.message}`))),
    );
  }
}

function key(node: string, session: string): string {
  return `${node}\0${session}`;
}
