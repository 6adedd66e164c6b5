import { randomBytes } from 'node:crypto';
import { fork } from 'node:child_process';
import { openSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { MessageConnection, RequestType } from 'vscode-jsonrpc';
import { createMessageConnection, SocketMessageReader, SocketMessageWriter } from 'vscode-jsonrpc/node';
import { EventsNotification, SessionListRequest, type EventBatch, type SessionHandle, type SessionInfo, type SessionOpenParams } from '../../session-protocol';
import { Journal } from './journal';
import { pruneSessionLogs, runDir, SESSION_ID, sessionPaths } from './run-dir';
import type { SessionHostConfig } from './session-host';

const HOST_START_TIMEOUT_MS = 10_000;

/** Undoes the journal of a session whose process is gone; links died with it. */
export type JournalRollback = (journal: Journal) => void;

/**
 * The agent's side of sessions: starts session processes, finds them through the run directory, and
 * relays requests (and event notifications) between its controller and them.
 */
export class SessionRouter {
  private readonly connections = new Map<string, Promise<MessageConnection>>();

  constructor(
    private readonly entry: string,
    private readonly rollback: JournalRollback,
    private readonly onEvents: (batch: EventBatch) => void,
  ) {}

  async open(params: SessionOpenParams): Promise<SessionHandle> {
    const id = randomBytes(8).toString('hex');
    const token = randomBytes(32).toString('hex');
    pruneSessionLogs();
    const log = openSync(join(runDir(), `${id}.log`), 'a', 0o600);
    const child = fork(this.entry, ['--session-host', id], { detached: true, stdio: ['ignore', log, log, 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the session process did not start in time')), HOST_START_TIMEOUT_MS);
      child.once('message', (m: { ready?: boolean; error?: string }) => {
        clearTimeout(timer);
        if (m.ready) resolve();
        else reject(new Error(`the session process failed to start: ${m.error ?? 'unknown error'}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the session process exited during start-up (code ${code})`));
      });
      child.send({ id, token, open: params } satisfies SessionHostConfig);
    });
    child.removeAllListeners('exit');
    child.disconnect();
    child.unref();
    return { id, token, leaseMs: params.leaseMs ?? 15_000, pid: child.pid ?? -1 };
  }

  private connection(id: string): Promise<MessageConnection> {
    let pending = this.connections.get(id);
    if (!pending) {
      const { socket } = sessionPaths(id);
      pending = new Promise<MessageConnection>((resolve, reject) => {
        const s = connect(socket);
        s.once('connect', () => {
          const c = createMessageConnection(new SocketMessageReader(s), new SocketMessageWriter(s));
          c.onNotification(EventsNotification, (batch) => this.onEvents(batch));
          c.onClose(() => {
            this.connections.delete(id);
            // A closed connection leaves its pending requests waiting: disposing rejects them.
            c.dispose();
          });
          c.listen();
          resolve(c);
        });
        s.once('error', (err) => {
          this.connections.delete(id);
          reject(new Error(`no session ${id} on this node (${(err as NodeJS.ErrnoException).code ?? err.message})`));
        });
      });
      this.connections.set(id, pending);
    }
    return pending;
  }

  /** Relay one request to the session `id` (the id is in the params). */
  async forward<P extends { id: string }, R>(type: RequestType<P, R, unknown>, params: P): Promise<R> {
    if (!SESSION_ID.test(params.id)) throw new Error(`not a session id: ${JSON.stringify(params.id)}`);
    const c = await this.connection(params.id);
    return c.sendRequest<R>(type.method, params);
  }

  /** Every live session on this node; the leftovers of dead ones are rolled back and removed on the way. */
  async list(): Promise<SessionInfo[]> {
    const ids = readdirSync(runDir())
      .map((f) => /^([0-9a-f]{16})\.(sock|journal)$/.exec(f)?.[1])
      .filter((id): id is string => id !== undefined);
    const sessions: SessionInfo[] = [];
    for (const id of new Set(ids)) {
      try {
        const c = await this.connection(id);
        sessions.push(...(await c.sendRequest(SessionListRequest)));
      } catch {
        this.sweep(id);
      }
    }
    return sessions;
  }

  private sweep(id: string): void {
    const paths = sessionPaths(id);
    const journal = new Journal(paths.journal);
    this.rollback(journal);
    if (journal.pending().length === 0) journal.remove();
    rmSync(paths.socket, { force: true });
  }

  dispose(): void {
    for (const c of this.connections.values()) void c.then((conn) => conn.dispose(), () => undefined);
    this.connections.clear();
  }
}

