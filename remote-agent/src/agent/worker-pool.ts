import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { AgentErrorData } from '../protocol';
import type { WorkerJob, WorkerReply, WorkerTask } from './worker-messages';

export class WorkerFailure extends Error {
  constructor(message: string, readonly data: AgentErrorData) {
    super(message);
  }
}

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
}

const WORKER_SCRIPT = join(__dirname, 'verify-worker.js');

/**
 * Verify workers, one warm spare per capability mode: a job takes the spare (or starts one) and a
 * finished worker becomes the spare again. Cancel, timeout or death kills the worker and warms a new one.
 */
export class WorkerPool {
  private readonly spares = new Map<string, Worker>();
  private readonly busy = new Set<ChildProcess>();
  private nextId = 1;
  private disposed = false;

  warm(caps = ''): void {
    if (!this.disposed && !this.spares.has(caps)) this.spares.set(caps, this.start(caps));
  }

  private start(caps: string): Worker {
    const child = fork(WORKER_SCRIPT, caps ? [caps] : [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: WorkerReply): void => {
        if ('ready' in m) {
          child.off('message', onMessage);
          resolve();
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code, signal) => reject(new WorkerFailure(`verify worker exited during start-up (${signal ?? code})`, { kind: 'WorkerDied' })));
    });
    ready.catch(() => undefined);
    child.once('exit', () => {
      for (const [key, w] of this.spares) if (w.child === child) this.spares.delete(key);
    });
    return { child, ready };
  }

  private take(caps: string): Worker {
    const spare = this.spares.get(caps);
    this.spares.delete(caps);
    return spare && spare.child.exitCode === null && !spare.child.killed ? spare : this.start(caps);
  }

  private release(caps: string, worker: Worker): void {
    this.busy.delete(worker.child);
    if (!this.disposed && !this.spares.has(caps)) this.spares.set(caps, worker);
    else worker.child.kill('SIGKILL');
  }

  run(task: WorkerTask, caps: string, timeoutMs: number, onCancel: (cancel: () => void) => void): Promise<unknown> {
    const worker = this.take(caps);
    const { child } = worker;
    this.busy.add(child);
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void, keep: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (keep) this.release(caps, worker);
        else {
          this.busy.delete(child);
          child.kill('SIGKILL');
          this.warm(caps);
        }
        outcome();
      };
      const onMessage = (m: WorkerReply): void => {
        if ('ready' in m || m.id !== id) return;
        if (m.ok) finish(() => resolve(m.result), true);
        else finish(() => reject(new WorkerFailure(m.message, m.data)), true);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        finish(() => reject(new WorkerFailure(`verify worker died (${signal ?? `exit ${code}`})`, { kind: 'WorkerDied' })), false);
      };
      const timer = setTimeout(() => {
        finish(() => reject(new WorkerFailure(`${task.kind} took longer than ${timeoutMs} ms and was stopped`, { kind: 'Timeout', fix: 'simplify the program or raise the timeout' })), false);
      }, timeoutMs);
      onCancel(() => finish(() => reject(new WorkerFailure(`${task.kind} cancelled`, { kind: 'Error' })), false));
      child.on('message', onMessage);
      child.once('exit', onExit);
      worker.ready.then(
        () => {
          if (!settled) child.send({ id, task } satisfies WorkerJob);
        },
        (err: Error) => finish(() => reject(err), false),
      );
    });
  }

  dispose(): void {
    this.disposed = true;
    for (const w of this.spares.values()) w.child.kill('SIGKILL');
    for (const c of this.busy) c.kill('SIGKILL');
    this.spares.clear();
    this.busy.clear();
  }
}
