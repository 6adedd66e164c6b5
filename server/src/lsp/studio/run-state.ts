import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HealthState, HealthStatus } from '../../policy';
import { fail } from './context';

/**
 * The state a running `ebpf-studio run` keeps in `<project>/.ebpf-studio/run.json` (the CLI's
 * cli/src/run-state/state-file.ts writes it; this is the same format and the same lock), so the editor's
 * apply, health and status act on that run's session as the CLI commands do.
 */

export interface RunState {
  readonly version: 1;
  readonly pid: number;
  /** No node: this machine. */
  readonly target: { readonly node?: string; readonly config?: string; readonly 'ssh-config'?: string };
  readonly session: { readonly id: string; readonly token: string };
  readonly policyPath: string;
  readonly policyText: string;
  readonly policyMaps: boolean;
  readonly health: { readonly manual: HealthState; readonly probe: HealthState };
}

const LOCK_WAIT_MS = 10_000;

const stateDir = (project: string): string => join(project, '.ebpf-studio');
const statePath = (project: string): string => join(stateDir(project), 'run.json');

/** Whether `pid` runs (a zombie, killed but not yet reaped, does not). */
function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The state of the run serving `project`, or a failure saying how to start one. */
export function liveRunState(project: string): RunState {
  let text: string;
  try {
    text = readFileSync(statePath(project), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fail(`no \`ebpf-studio run\` is running for ${project} (no ${statePath(project)}): start one with ebpf-studio run ${project}`);
  }
  const state = JSON.parse(text) as RunState;
  if (state.version !== 1) fail(`${statePath(project)} was written by another ebpf-studio version: stop that run first`);
  if (!pidAlive(state.pid)) fail(`the run for ${project} (pid ${state.pid}) is gone: start it again with ebpf-studio run ${project}`);
  return state;
}

/** Atomically, keeping the fields this module does not know. */
export function writeRunState(project: string, state: RunState): void {
  mkdirSync(stateDir(project), { recursive: true, mode: 0o700 });
  chmodSync(stateDir(project), 0o700);
  const temp = `${statePath(project)}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, statePath(project));
}

/** Runs `fn` holding `<project>/.ebpf-studio/lock` (the run's probe, the CLI and the editor never interleave writes). */
export async function withStateLock<T>(project: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(stateDir(project), 'lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = NaN;
      try {
        holder = Number(readFileSync(lock, 'utf8') || NaN);
      } catch {
        continue;
      }
      if (Number.isInteger(holder) && holder > 0 && !pidAlive(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) fail(`${lock} has been held by process ${holder} for ${LOCK_WAIT_MS} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Manual marks and the probe's together: down when either says so. */
export function effectiveHealth(health: RunState['health']): HealthState {
  const merged: Record<string, Record<string, HealthStatus>> = {};
  for (const part of [health.probe, health.manual]) {
    for (const [service, marks] of Object.entries(part)) merged[service] = { ...merged[service], ...marks };
  }
  return merged;
}
