/**
 * Synchronous clean-up of what tests create (namespaces, cgroups, nodes, VMs): each registered action
 * runs at process exit and on SIGINT/SIGTERM/SIGHUP (then the signal is raised again), newest first.
 * Actions must be idempotent; one that throws does not stop the others.
 */

const actions = new Set<() => void>();
let hooksInstalled = false;

/** Registers `action`; the returned function unregisters it (call it once the resource is gone). */
export function onProcessExit(action: () => void): () => void {
  installHooks();
  actions.add(action);
  return () => void actions.delete(action);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runAll();
      process.kill(process.pid, signal);
    });
  }
}

function runAll(): void {
  for (const action of [...actions].reverse()) {
    actions.delete(action);
    try {
      action();
    } catch {
      // the other actions still run
    }
  }
}

/** Whether a process exists (EPERM: it does, but is not ours to signal). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
