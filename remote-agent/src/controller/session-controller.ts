import {
  AttachRequest,
  DetachRequest,
  SessionCloseRequest,
  SessionHeartbeatRequest,
  SessionOpenRequest,
  SessionResumeRequest,
  type AttachParams,
  type AttachmentInfo,
  type SessionHandle,
  type SessionInfo,
  type SessionOpenParams,
} from '../session-protocol';
import type { AgentClient } from './agent-client';

/**
 * The owner's end of a session: opens it, heartbeats at a third of the lease, resumes it over a new
 * agent connection after a drop, and closes it (the node rolls everything back at once).
 */
export class SessionController {
  private timer: NodeJS.Timeout | undefined;
  private heartbeatFailures = 0;

  private constructor(
    private agent: AgentClient,
    readonly handle: SessionHandle,
    private readonly onTrouble: (message: string) => void,
  ) {
    this.startHeartbeat();
  }

  static async open(agent: AgentClient, params: SessionOpenParams, onTrouble: (message: string) => void = () => undefined): Promise<SessionController> {
    const handle = await agent.request(SessionOpenRequest, params);
    return new SessionController(agent, handle, onTrouble);
  }

  private startHeartbeat(): void {
    const every = Math.max(200, Math.floor(this.handle.leaseMs / 3));
    this.timer = setInterval(() => {
      this.agent.request(SessionHeartbeatRequest, { id: this.handle.id, token: this.handle.token }).then(
        () => {
          this.heartbeatFailures = 0;
        },
        (err: Error) => {
          this.heartbeatFailures++;
          this.onTrouble(`heartbeat to session ${this.handle.id} failed (${err.message}); the node rolls back after ${this.handle.leaseMs} ms without one`);
        },
      );
    }, every);
    this.timer.unref();
  }

  /** Take the session over through another agent connection (after a dropped one), within its lease. */
  async resume(agent: AgentClient): Promise<SessionInfo> {
    const info = await agent.request(SessionResumeRequest, { id: this.handle.id, token: this.handle.token });
    this.agent = agent;
    return info;
  }

  attach(params: Omit<AttachParams, 'id' | 'token'>): Promise<AttachmentInfo> {
    return this.agent.request(AttachRequest, { ...params, id: this.handle.id, token: this.handle.token });
  }

  /** Detach one attachment of this session (the session stays open). */
  async detach(attachment: string): Promise<void> {
    await this.agent.request(DetachRequest, { id: this.handle.id, attachment });
  }

  /** Stop heartbeating without closing: the node rolls back when the lease runs out. */
  abandon(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    this.abandon();
    await this.agent.request(SessionCloseRequest, { id: this.handle.id, token: this.handle.token });
  }
}
