import type { ObjectVerdict, VerifyObjectOptions } from '@ebpf-studio/libbpf-ts';
import type { AgentErrorData } from '../protocol';

/** Parent → verify worker (over the fork IPC channel, advanced serialization). */
export interface WorkerJob {
  id: number;
  object: Uint8Array;
  options: VerifyObjectOptions;
}

/** Verify worker → parent. */
export type WorkerReply =
  | { id: number; ok: true; result: ObjectVerdict }
  | { id: number; ok: false; message: string; data: AgentErrorData }
  | { ready: true };
