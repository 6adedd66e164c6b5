/**
 * A verify worker: a separate process so a long verification never blocks the agent, and a stale one
 * is cancelled by killing it. Started by the agent's WorkerPool; optional argv[2] is a capability list
 * the process reduces itself to before loading anything.
 */
import { BpfError, NotSupportedError, PermissionError, libbpfVersion, parseCapabilityList, probeHelpers, readKernelKfuncs, restrictCapabilities, verifyObject } from '@ebpf-studio/libbpf-ts';
import type { AgentErrorData } from '../protocol';
import type { WorkerJob, WorkerReply, WorkerTask } from './worker-messages';

function send(reply: WorkerReply): void {
  process.send?.(reply);
}

function errorData(err: unknown): AgentErrorData {
  if (err instanceof NotSupportedError) return { kind: 'NotSupportedError', fix: err.fix };
  if (err instanceof PermissionError) return { kind: 'PermissionError', ...(err.fix ? { fix: err.fix } : {}) };
  if (err instanceof BpfError) return { kind: 'BpfError', ...(err.fix ? { fix: err.fix } : {}), ...(err.errno !== undefined ? { errno: err.errno } : {}) };
  return { kind: 'Error' };
}

const caps = process.argv[2];
let startupError: unknown;
try {
  libbpfVersion();
  if (caps) restrictCapabilities(parseCapabilityList(caps));
} catch (err) {
  startupError = err;
}

/** Listing kfuncs parses a file and needs no libbpf: it works where verifying cannot. */
function perform(task: WorkerTask): unknown {
  if (task.kind === 'kfuncs') return readKernelKfuncs();
  if (startupError) throw startupError;
  switch (task.kind) {
    case 'verify':
      return verifyObject(task.object, task.options);
    case 'probe-helpers':
      return probeHelpers(task.progTypes, task.helperIds);
  }
}

process.on('message', (job: WorkerJob) => {
  try {
    send({ id: job.id, ok: true, result: perform(job.task) });
  } catch (err) {
    send({ id: job.id, ok: false, message: (err as Error).message, data: errorData(err) });
  }
});
process.on('disconnect', () => process.exit(0));
send({ ready: true });
