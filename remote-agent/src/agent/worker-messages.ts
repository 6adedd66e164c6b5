import type { VerifyObjectOptions } from '@ebpf-studio/libbpf-ts';
import type { AgentErrorData } from '../protocol';

/** What a verify worker can be asked to do: everything that loads into the kernel, or parses its BTF, runs there. */
export type WorkerTask =
  | { kind: 'verify'; object: Uint8Array; options: VerifyObjectOptions }
  | { kind: 'probe-helpers'; progTypes: string[]; helperIds: number[] }
  | { kind: 'kfuncs' };

/** Parent → worker (over the fork IPC channel, advanced serialization). */
export interface WorkerJob {
  id: number;
  task: WorkerTask;
}

/** Worker → parent. */
export type WorkerReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; message: string; data: AgentErrorData }
  | { ready: true };
