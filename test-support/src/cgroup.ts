import { onProcessExit, pidAlive } from './process-exit';
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, mkdirSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * cgroup v2 directories for tests under /sys/fs/cgroup/unified (never the root cgroup itself), and
 * processes started inside them. Names carry the process id; `remove()` kills what runs inside (cgroup.kill)
 * and removes the directory — also at process exit, on SIGINT/SIGTERM, and for leftovers of dead
 * processes when the next cgroup is created. Removing a cgroup also drops the BPF programs attached to it.
 */

export const CGROUP_ROOT = '/sys/fs/cgroup/unified';
const NAME_PREFIX = 'ebst-';
const EMPTY_WAIT_MS = 3000;

export interface TestCgroup {
  readonly name: string;
  /** The cgroup's directory: the target for cgroup attach calls. */
  readonly path: string;
  /** Start a process inside the cgroup (it joins before exec, so its first connect is already seen). */
  spawn(cmd: string, args?: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Run a command inside the cgroup to completion; returns stdout, throws on a non-zero exit. */
  exec(cmd: string, args?: readonly string[], options?: { input?: string; timeoutMs?: number }): string;
  /** Move an existing process into the cgroup. */
  addProcess(pid: number): void;
  /** The pids currently inside. */
  pids(): number[];
  /** Kills every process inside and removes the directory. Idempotent. */
  remove(): void;
}

let counter = 0;




function pidsOf(path: string): number[] {
  try {
    return readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter((s) => s !== '').map(Number);
  } catch {
    return [];
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Kills everything inside (children first) and removes the directories; quiet when already gone. Also for
 * a cgroup a command under test created (named `ebst-<tag>-<pid>-<n>` below CGROUP_ROOT, so the sweep finds it too).
 */
export function destroyCgroup(path: string): void {
  if (!existsSync(path)) return;
  for (const entry of readdirSync(path)) {
    const child = join(path, entry);
    if (statSync(child).isDirectory()) destroyCgroup(child);
  }
  try {
    writeFileSync(join(path, 'cgroup.kill'), '1');
  } catch {
    for (const pid of pidsOf(path)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  const deadline = Date.now() + EMPTY_WAIT_MS;
  for (;;) {
    try {
      rmdirSync(path);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) throw err;
      sleepMs(10);
    }
  }
}

/** Removes cgroups left by test processes that died without cleaning up. */
export function sweepStaleCgroups(): void {
  for (const entry of readdirSync(CGROUP_ROOT)) {
    const match = new RegExp(`^${NAME_PREFIX}[a-z0-9]*-(\\d+)-\\d+$`).exec(entry);
    if (match && !pidAlive(Number(match[1]))) destroyCgroup(join(CGROUP_ROOT, entry));
  }
}

/** Creates a fresh cgroup v2 directory `/sys/fs/cgroup/unified/ebst-<tag>-<pid>-<n>`. */
export function createCgroup(tag = ''): TestCgroup {
  if (!existsSync(join(CGROUP_ROOT, 'cgroup.procs'))) throw new Error(`no cgroup v2 hierarchy at ${CGROUP_ROOT}`);
  sweepStaleCgroups();
  counter += 1;
  const name = `${NAME_PREFIX}${tag.toLowerCase().replace(/[^a-z0-9]/g, '')}-${process.pid}-${counter}`;
  const path = join(CGROUP_ROOT, name);
  mkdirSync(path);
  const procs = join(path, 'cgroup.procs');
  // The shell only moves itself into the cgroup and execs the argument array; nothing is interpolated.
  const joinThenExec = (cmd: string, args: readonly string[]): string[] => ['-c', 'echo $$ > "$0" && exec "$@"', procs, cmd, ...args];
  let removed = false;
  const cgroup: TestCgroup = {
    name,
    path,
    spawn(cmd, args = [], options = {}) {
      return spawn('/bin/sh', joinThenExec(cmd, args), options);
    },
    exec(cmd, args = [], options = {}) {
      return execFileSync('/bin/sh', joinThenExec(cmd, args), {
        encoding: 'utf8',
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        ...(options.input === undefined ? {} : { input: options.input }),
        ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
      });
    },
    addProcess(pid) {
      writeFileSync(procs, String(pid));
    },
    pids: () => pidsOf(path),
    remove() {
      if (removed) return;
      removed = true;
      forget();
      destroyCgroup(path);
    },
  };
  const forget = onProcessExit(() => cgroup.remove());
  return cgroup;
}
