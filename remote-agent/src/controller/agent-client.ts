import type { ChildProcess } from 'node:child_process';
import { CancellationTokenSource, ResponseError, type CancellationToken, type MessageConnection, type NotificationType, type RequestType, type RequestType0 } from 'vscode-jsonrpc';
import { BuildRequest, HelpersRequest, InfoRequest, KfuncsRequest, VerifyRequest, type AgentErrorData, type AgentInfo, type BuildParams, type BuildResult, type HelpersParams, type HelpersResult, type KfuncsResult, type VerifyParams, type VerifyResult } from '../protocol';

const CLOSE_REASON_WAIT_MS = 1000;

/** A failure reported by an agent, with the fix when the agent knows one. */
export class AgentError extends Error {
  constructor(message: string, readonly data: AgentErrorData | undefined, readonly target: string) {
    super(data?.fix && !message.includes(data.fix) ? `${message} — ${data.fix}` : message);
    this.name = 'AgentError';
  }
}

/** A controller's handle on one agent, over any byte stream (local child process or SSH channel). */
export class AgentClient {
  private closed = false;
  private closeReason: AgentError | undefined;
  private signalClosed: () => void = () => undefined;
  /** Resolves once we know why the agent is gone (closeReason is set). */
  private readonly closedSignal = new Promise<void>((resolve) => {
    this.signalClosed = resolve;
  });
  private readonly closeListeners: ((reason: string) => void)[] = [];

  constructor(
    private readonly connection: MessageConnection,
    /** Where the agent runs, for messages: 'local' or a node name. */
    readonly target: string,
    private readonly process?: ChildProcess,
  ) {
    connection.onClose(() => {
      this.markClosed('the agent connection closed');
      // A closed connection leaves its pending requests waiting: disposing rejects them.
      connection.dispose();
    });
    connection.listen();
  }

  private markClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.closeListeners) l(reason);
  }

  /** The agent could not start or died: later and pending calls fail with this error. */
  fail(error: AgentError): void {
    this.closeReason ??= error;
    this.signalClosed();
    this.markClosed(error.message);
    this.connection.dispose();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  private async call<R>(run: () => Promise<R>): Promise<R> {
    if (this.closed) throw this.closeReason ?? new AgentError(`the agent on ${this.target} is not running`, { kind: 'WorkerDied' }, this.target);
    try {
      return await run();
    } catch (err) {
      // A write to an agent that is exiting fails before we learn why it exits: wait a moment for that.
      if (!this.closeReason) await Promise.race([this.closedSignal, new Promise((r) => setTimeout(r, CLOSE_REASON_WAIT_MS))]);
      if (this.closeReason) throw this.closeReason;
      if (err instanceof ResponseError) throw new AgentError(err.message, err.data as AgentErrorData | undefined, this.target);
      throw this.closeReason ?? new AgentError(`the agent on ${this.target} failed: ${(err as Error).message}`, { kind: 'WorkerDied' }, this.target);
    }
  }

  /** Any request of the protocol (session-protocol.ts has the session ones). */
  request<P, R>(type: RequestType<P, R, AgentErrorData>, params: P): Promise<R>;
  request<R>(type: RequestType0<R, AgentErrorData>): Promise<R>;
  request<P, R>(type: RequestType<P, R, AgentErrorData> | RequestType0<R, AgentErrorData>, params?: P): Promise<R> {
    return this.call(() => (params === undefined ? this.connection.sendRequest<R>(type.method) : this.connection.sendRequest<R>(type.method, params)));
  }

  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): void {
    this.connection.onNotification(type, handler);
  }

  info(): Promise<AgentInfo> {
    return this.call(() => this.connection.sendRequest(InfoRequest));
  }

  build(params: BuildParams): Promise<BuildResult> {
    return this.call(() => this.connection.sendRequest(BuildRequest, params));
  }

  helpers(params: HelpersParams): Promise<HelpersResult> {
    return this.call(() => this.connection.sendRequest(HelpersRequest, params));
  }

  kfuncs(): Promise<KfuncsResult> {
    return this.call(() => this.connection.sendRequest(KfuncsRequest));
  }

  verify(params: VerifyParams, token?: CancellationToken): Promise<VerifyResult> {
    return this.call(() => this.connection.sendRequest(VerifyRequest, params, token ?? new CancellationTokenSource().token));
  }

  dispose(): void {
    this.markClosed('disposed');
    this.connection.dispose();
    this.process?.kill('SIGTERM');
  }
}
