import { chmodSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../engine/usage-error';
import type { HealthState, HealthStatus } from '../policy';

/**
 * What a running `ebpf-studio run` leaves in `<project>/.ebpf-studio/run.json` (0600, in a 0700 directory)
 * so that `apply`, `status` and `health` in other processes (the CLI's, the editor's) find its session: the
 * session's id and owner token, where it runs, the policy text it applies, and health (marks by `health`,
 * and by its probe). Read-modify-write goes through withStateLock.
 */

export interface RunHealth {
  /** Marks set with `ebpf-studio health`. */
  readonly manual: HealthState;
  /** What the run's TCP probe found (endpoints and gateways that did not answer). */
  readonly probe: HealthState;
}

/** How to reach the agent that holds a run's session: the `--node`, `--config` and `--ssh-config` it was started with. */
export interface RunTarget {
  /** No node: this machine. */
  readonly node?: string | undefined;
  readonly config?: string | undefined;
  readonly 'ssh-config'?: string | undefined;
}

export interface RunState {
  readonly version: 1;
  /** The `run` process. */
  readonly pid: number;
  readonly startedAt: string;
  readonly target: RunTarget;
  /** The owner's token closes the session should this run die without doing so (the next run does). */
  readonly session: { readonly id: string; readonly token: string };
  /** Cgroup directories `run` created (outermost first); it removes them on exit. */
  readonly createdCgroups: readonly string[];
  /** The cgroup `--exec` commands run in. */
  readonly execCgroup?: string;
  /** ebpf-studio.yaml as last applied, and its path (for positions in messages). */
  readonly policyPath: string;
  readonly policyText: string;
  /** Whether a loaded program has policy maps (clusterset-socket-lb's lb_services / lb_backends). */
  readonly policyMaps: boolean;
  readonly health: RunHealth;
}

const LOCK_WAIT_MS = 10_000;

function stateDir(project: string): string {
  return join(project, '.ebpf-studio');
}

export function statePath(project: string): string {
  return join(stateDir(project), 'run.json');
}

/** Whether `pid` runs (a zombie, killed but not yet reaped, does not). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The state file's content, or undefined when there is none. */
export function readRunState(project: string): RunState | undefined {
  let text: string;
  try {
    text = readFileSync(statePath(project), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const state = JSON.parse(text) as RunState;
  if (state.version !== 1) throw new UsageError(`${statePath(project)} was written by another ebpf-studio version: stop that run first`);
  return state;
}

/** The state of the run serving `project`; a UsageError saying how to start one when none is running. */
export function liveRunState(project: string): RunState {
  const state = readRunState(project);
  if (!state) throw new UsageError(`no \`ebpf-studio run\` is running for ${project} (no ${statePath(project)}): start one with ebpf-studio run ${project}`);
  if (!pidAlive(state.pid)) throw new UsageError(`the run for ${project} (pid ${state.pid}) is gone: start it again with ebpf-studio run ${project}`);
  return state;
}

/** Atomically (write, then rename) and readable by its owner only. */
export function writeRunState(project: string, state: RunState): void {
  const dir = stateDir(project);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const temp = `${statePath(project)}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, statePath(project));
}

/** Removes run.json, and the directory when nothing else is in it. */
export function removeRunState(project: string): void {
  rmSync(statePath(project), { force: true });
  try {
    rmdirSync(stateDir(project));
  } catch {
    // not empty (a lock being taken) or already gone
  }
}

/**
 * Runs `fn` while holding `<project>/.ebpf-studio/lock` (created exclusively; a lock whose process is gone
 * is taken over), so the run's probe, `health` and `apply` (CLI or editor) never write the maps from stale state.
 */
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
      if (Date.now() > deadline) throw new UsageError(`${lock} has been held by process ${holder} for ${LOCK_WAIT_MS} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Manual marks and the probe's, together: down when either says so. */
export function effectiveHealth(health: RunHealth): HealthState {
  const merged: Record<string, Record<string, HealthStatus>> = {};
  for (const part of [health.probe, health.manual]) {
    for (const [service, marks] of Object.entries(part)) merged[service] = { ...merged[service], ...marks };
  }
  return merged;
}
