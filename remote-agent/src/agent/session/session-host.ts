/**
 * The session process: started detached by an agent (`--session-host <id>`), it holds what the
 * session attached and serves JSON-RPC on a private unix socket to any agent on this node. It rolls
 * everything back and exits when its owner closes it or stops heartbeating for longer than the lease.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { ResponseError, type MessageConnection } from 'vscode-jsonrpc';
import { createMessageConnection, SocketMessageReader, SocketMessageWriter } from 'vscode-jsonrpc/node';
import { ERROR_CODES, type AgentErrorData } from '../../protocol';
import {
  AttachRequest,
  DetachRequest,
  EventsNotification,
  EventsSubscribeRequest,
  EventsUnsubscribeRequest,
  MapDeleteRequest,
  MapDumpRequest,
  MapUpdateRequest,
  SessionCloseRequest,
  SessionHeartbeatRequest,
  SessionListRequest,
  SessionResumeRequest,
  StatsRequest,
  type SessionInfo,
  type SessionOpenParams,
  type SessionRef,
} from '../../session-protocol';
import { Journal } from './journal';
import { PERSISTENT_ROOT } from './persistent';
import { sessionPaths } from './run-dir';
import type { SessionKernel } from './session-kernel';

export interface SessionHostConfig {
  id: string;
  token: string;
  open: SessionOpenParams;
}

const DEFAULT_LEASE_MS = 15_000;
const LEASE_CHECK_MS = 250;
const CLOSE_GRACE_MS = 50;

function hash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function failure(err: unknown): ResponseError<AgentErrorData> {
  return new ResponseError(ERROR_CODES.failed, (err as Error).message, { kind: 'BpfError', ...((err as { fix?: string }).fix ? { fix: (err as { fix: string }).fix } : {}) });
}

export class SessionHost {
  private lastHeartbeat = Date.now();
  private readonly tokenHash: Buffer;
  private readonly journal: Journal;
  private readonly createdAt = new Date().toISOString();
  private readonly connections = new Set<MessageConnection>();
  private ended = false;
  readonly leaseMs: number;

  constructor(
    private readonly config: SessionHostConfig,
    private readonly kernel: SessionKernel,
  ) {
    this.tokenHash = hash(config.token);
    this.journal = new Journal(sessionPaths(config.id).journal);
    this.leaseMs = config.open.leaseMs ?? DEFAULT_LEASE_MS;
  }

  private owner(ref: SessionRef): void {
    if (ref.id !== this.config.id || !timingSafeEqual(hash(ref.token), this.tokenHash)) {
      throw new Error('this session belongs to another controller (wrong token)');
    }
    this.lastHeartbeat = Date.now();
  }

  info(): SessionInfo {
    return {
      id: this.config.id,
      name: this.config.open.name ?? this.config.id,
      pid: process.pid,
      createdAt: this.createdAt,
      leaseMs: this.leaseMs,
      silentMs: Date.now() - this.lastHeartbeat,
      persistent: this.config.open.persistent ?? false,
      attachments: this.kernel.attachments(),
      maps: this.kernel.maps(),
    };
  }

  private pinDir(): string | undefined {
    return this.config.open.persistent ? join(PERSISTENT_ROOT, (this.config.open.name ?? this.config.id).replace(/[^A-Za-z0-9_.-]/g, '_')) : undefined;
  }

  private serve(connection: MessageConnection): void {
    const guard = <P, R>(fn: (params: P) => R) => (params: P): R | ResponseError<AgentErrorData> => {
      try {
        return fn(params);
      } catch (err) {
        return failure(err);
      }
    };
    connection.onRequest(SessionResumeRequest, guard((ref) => (this.owner(ref), this.info())));
    connection.onRequest(SessionHeartbeatRequest, guard((ref) => (this.owner(ref), { leaseMs: this.leaseMs })));
    connection.onRequest(SessionCloseRequest, guard((ref) => {
      this.owner(ref);
      // Roll back before answering, so a closed session has left nothing; exit once the answer is out.
      this.rollback();
      setTimeout(() => this.end('closed by its owner'), CLOSE_GRACE_MS);
    }));
    // A closed session is gone for everyone at once, even in the moment before its process exits.
    connection.onRequest(SessionListRequest, () => (this.rolledBack ? [] : [this.info()]));
    connection.onRequest(AttachRequest, guard((params) => {
      this.owner(params);
      return this.kernel.attach(params, this.journal, this.pinDir());
    }));
    connection.onRequest(DetachRequest, guard((params) => {
      const ids = params.attachment ? [params.attachment] : this.kernel.attachments().map((a) => a.id);
      const detached = ids.filter((a) => this.kernel.detach(a, this.journal));
      if (params.attachment && detached.length === 0) throw new Error(`no attachment ${params.attachment} in session ${this.config.id}`);
      return detached;
    }));
    connection.onRequest(MapDumpRequest, guard((params) => this.kernel.dump(params)));
    connection.onRequest(MapUpdateRequest, guard((params) => this.kernel.update(params)));
    connection.onRequest(MapDeleteRequest, guard((params) => this.kernel.remove(params)));
    connection.onRequest(StatsRequest, guard((params) => this.kernel.stats(params.enable)));
    const subscriptions: string[] = [];
    connection.onRequest(EventsSubscribeRequest, guard((params) => {
      const subscription = this.kernel.subscribe(params, (batch) => void connection.sendNotification(EventsNotification, batch));
      subscriptions.push(subscription);
      return { subscription };
    }));
    connection.onRequest(EventsUnsubscribeRequest, guard((params) => this.kernel.unsubscribe(params.subscription)));
    connection.onClose(() => {
      for (const s of subscriptions) this.kernel.unsubscribe(s);
      this.connections.delete(connection);
    });
    this.connections.add(connection);
    connection.listen();
  }

  /** Listen on the session's socket; resolves once agents can connect. */
  listen(): Promise<void> {
    const { socket } = sessionPaths(this.config.id);
    rmSync(socket, { force: true });
    const server = createServer({ allowHalfOpen: false }, (s: Socket) => {
      s.on('error', () => undefined);
      this.serve(createMessageConnection(new SocketMessageReader(s), new SocketMessageWriter(s)));
    });
    const timer = setInterval(() => {
      if (Date.now() - this.lastHeartbeat > this.leaseMs) this.end(`no heartbeat for ${this.leaseMs} ms (lease expired)`);
    }, LEASE_CHECK_MS);
    process.once('SIGTERM', () => this.end('terminated'));
    process.once('SIGINT', () => this.end('interrupted'));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => {
        this.onEnd = () => {
          clearInterval(timer);
          server.close();
          rmSync(socket, { force: true });
        };
        resolve();
      });
    });
  }

  private onEnd: () => void = () => undefined;

  private rolledBack = false;

  /** Undo everything the session did (pinned attachments of a persistent session stay). Idempotent. */
  private rollback(): void {
    if (this.rolledBack) return;
    this.rolledBack = true;
    this.kernel.releaseAll(this.journal);
    if (this.journal.pending().length === 0) this.journal.remove();
  }

  /** Roll back and exit. */
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.rollback();
    } finally {
      this.onEnd();
      for (const c of this.connections) c.dispose();
      process.stderr.write(`session ${this.config.id} ended: ${reason}\n`);
      process.exit(0);
    }
  }
}
