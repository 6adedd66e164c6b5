/**
 * The agent: serves the protocol (protocol.ts) over its stdin/stdout with vscode-jsonrpc. Everything
 * that touches the kernel runs in verify workers (worker-pool.ts). stdout carries only protocol frames.
 */
import { hostname, release } from 'node:os';
import { ResponseError } from 'vscode-jsonrpc';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { ObjectVerdict } from '@ebpf-studio/libbpf-ts';
import { ERROR_CODES, HelpersRequest, InfoRequest, VerifyRequest, type AgentErrorData, type HelpersResult, type VerifyParams, type VerifyResult } from '../protocol';
import { nodeInfo } from './node-info';
import { WorkerFailure, WorkerPool } from './worker-pool';

const DEFAULT_TIMEOUT_MS = 120_000;

console.log = console.error;
const pool = new WorkerPool();
pool.warm();

const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));

connection.onRequest(InfoRequest, () => nodeInfo());

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

function shutdown(): void {
  pool.dispose();
  process.exit(0);
}
connection.onClose(shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
connection.listen();
