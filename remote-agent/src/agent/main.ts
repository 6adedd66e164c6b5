/**
 * The agent on a machine with a kernel. Without arguments it serves the protocol (protocol.ts,
 * session-protocol.ts) over stdin/stdout with vscode-jsonrpc — stdout carries only protocol frames.
 * Everything that loads into the kernel for a verdict runs in workers (worker-pool.ts); attachments
 * live in session processes (`--session-host <id>`, session/host-main.ts).
 */
import { hostname, release } from 'node:os';
import { ResponseError, type RequestType } from 'vscode-jsonrpc';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { ObjectVerdict } from '@ebpf-studio/libbpf-ts';
import { BuildRequest, ERROR_CODES, HelpersRequest, InfoRequest, KfuncsRequest, VerifyRequest, type AgentErrorData, type HelpersResult, type KfuncsResult, type VerifyParams, type VerifyResult } from '../protocol';
import {
  AttachRequest,
  DetachRequest,
  EventsNotification,
  EventsSubscribeRequest,
  EventsUnsubscribeRequest,
  MapDeleteRequest,
  MapDumpRequest,
  MapUpdateRequest,
  PersistentListRequest,
  PersistentRemoveRequest,
  SessionCloseRequest,
  SessionHeartbeatRequest,
  SessionListRequest,
  SessionOpenRequest,
  SessionResumeRequest,
  StatsRequest,
} from '../session-protocol';
import { buildOnNode } from './build';
import { nodeInfo } from './node-info';
import { listPersistent, removePersistent } from './session/persistent';
import { createKernelSession, rollbackJournal } from './session/kernel-session';
import { runSessionHost } from './session/host-main';
import { SessionRouter } from './session/session-router';
import { WorkerFailure, WorkerPool } from './worker-pool';

console.log = console.error;
const [mode, modeArg] = process.argv.slice(2);
if (mode === '--session-host' && modeArg) runSessionHost(modeArg, createKernelSession);
else serveStdio();

function serveStdio(): void {
  const DEFAULT_TIMEOUT_MS = 120_000;

  const pool = new WorkerPool();
  pool.warm();

  const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));

  connection.onRequest(InfoRequest, () => nodeInfo());

  connection.onRequest(BuildRequest, async (params) => {
    try {
      return await buildOnNode(params);
    } catch (err) {
      return failure(err);
    }
  });

  connection.onRequest(VerifyRequest, async (params: VerifyParams, token): Promise<VerifyResult | ResponseError<AgentErrorData>> => {
    const object = Buffer.from(params.object, 'base64');
    const options = {
      ...(params.objectName ? { objectName: params.objectName } : {}),
      ...(params.programs ? { programs: params.programs } : {}),
      ...(params.logLevel ? { logLevel: params.logLevel } : {}),
      ...(params.logSize ? { logSize: params.logSize } : {}),
      patches: (params.patches ?? []).map((p) => ({ ...p, bytes: Buffer.from(p.bytes, 'base64') })),
    };
    try {
      const verdict = (await pool.run({ kind: 'verify', object, options }, params.caps ?? '', params.timeoutMs ?? DEFAULT_TIMEOUT_MS, (cancel) => {
        token.onCancellationRequested(cancel);
      })) as ObjectVerdict;
      return { ...verdict, kernelRelease: release(), hostname: hostname() };
    } catch (err) {
      if (token.isCancellationRequested) return new ResponseError(ERROR_CODES.cancelled, 'verification cancelled', { kind: 'Error' });
      return failure(err);
    }
  });

  function failure(err: unknown): ResponseError<AgentErrorData> {
    const data: AgentErrorData = err instanceof WorkerFailure ? err.data : { kind: 'Error' };
    return new ResponseError(ERROR_CODES.failed, (err as Error).message, data);
  }

  /** Helper availability does not change while the kernel runs: probe each question once. */
  const helperAnswers = new Map<string, Promise<HelpersResult>>();
  connection.onRequest(HelpersRequest, async (params): Promise<HelpersResult | ResponseError<AgentErrorData>> => {
    const key = JSON.stringify([params.progTypes, params.helperIds]);
    let answer = helperAnswers.get(key);
    if (!answer) {
      answer = pool.run({ kind: 'probe-helpers', progTypes: params.progTypes, helperIds: params.helperIds }, '', DEFAULT_TIMEOUT_MS, () => undefined) as Promise<HelpersResult>;
      helperAnswers.set(key, answer);
      answer.catch(() => helperAnswers.delete(key));
    }
    try {
      return await answer;
    } catch (err) {
      return failure(err);
    }
  });

  /** Nor do its kfuncs: the BTF is parsed (in a worker, some 200 ms for a 5 MB vmlinux) once per agent. */
  let kfuncAnswer: Promise<KfuncsResult> | undefined;
  connection.onRequest(KfuncsRequest, async (): Promise<KfuncsResult | ResponseError<AgentErrorData>> => {
    const answer = (kfuncAnswer ??= pool.run({ kind: 'kfuncs' }, '', DEFAULT_TIMEOUT_MS, () => undefined) as Promise<KfuncsResult>);
    try {
      return await answer;
    } catch (err) {
      if (kfuncAnswer === answer) kfuncAnswer = undefined;
      return failure(err);
    }
  });

  const router = new SessionRouter(__filename, rollbackJournal, (batch) => void connection.sendNotification(EventsNotification, batch));
  const relay = <P extends { id: string }, R>(type: RequestType<P, R, AgentErrorData>): void => {
    connection.onRequest(type.method, async (params: P): Promise<R | ResponseError<AgentErrorData>> => {
      try {
        return await router.forward(type, params);
      } catch (err) {
        return err instanceof ResponseError ? (err as ResponseError<AgentErrorData>) : failure(err);
      }
    });
  };
  connection.onRequest(SessionOpenRequest, async (params) => {
    try {
      return await router.open(params);
    } catch (err) {
      return failure(err);
    }
  });
  connection.onRequest(SessionListRequest, () => router.list());
  connection.onRequest(PersistentListRequest, () => {
    try {
      return listPersistent();
    } catch (err) {
      return failure(err);
    }
  });
  connection.onRequest(PersistentRemoveRequest, (params) => {
    try {
      removePersistent(params.path);
      return undefined;
    } catch (err) {
      return failure(err);
    }
  });
  for (const type of [SessionResumeRequest, SessionHeartbeatRequest, SessionCloseRequest, AttachRequest, DetachRequest, MapDumpRequest, MapUpdateRequest, MapDeleteRequest, StatsRequest, EventsSubscribeRequest, EventsUnsubscribeRequest] as RequestType<{ id: string }, unknown, AgentErrorData>[]) {
    relay(type);
  }

  function shutdown(): void {
    router.dispose();
    pool.dispose();
    process.exit(0);
  }
  connection.onClose(shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  connection.listen();
}
