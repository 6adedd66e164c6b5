import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { runningChildren } from './exec';

import { onProcessExit as onExit } from '../process-exit';

export { pidAlive } from '../process-exit';

/** Like onProcessExit, and first kills the children the VM harness still runs (qemu, build steps). */
export function onProcessExit(action: () => void): () => void {
  return onExit(() => {
    for (const child of runningChildren()) child.kill('SIGKILL');
    action();
  });
}

/** The process's command line, or undefined when it is gone. */
export function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');
  } catch {
    return undefined;
  }
}

/** Mount points at or below `dir`, deepest first (a debootstrap killed midway leaves /proc and /sys mounted). */
function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((point) => point === dir || point.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/** Pids whose root directory lies inside `dir` (processes left in a chroot). */
function processesRootedIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const root = readlinkSync(`/proc/${entry}/root`);
      if (root === dir || root.startsWith(`${dir}/`)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/**
 * Removes a directory tree that may have been a chroot: kills processes rooted in it, lazily unmounts
 * whatever is mounted below it, then deletes without crossing into another file system.
 */
export function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const pid of processesRootedIn(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const point of mountsUnder(dir)) {
    try {
      execFileSync('umount', ['-l', point], { stdio: 'ignore' });
    } catch {
      // unmounted concurrently
    }
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      execFileSync('rm', ['-rf', '--one-file-system', dir], { stdio: 'ignore' });
      return;
    } catch (err) {
      if (attempt === RM_ATTEMPTS) throw err;
      sleepSync(100);
    }
  }
}

/** Processes killed a moment ago may still be writing into the tree: rm is retried for about 2 s. */
const RM_ATTEMPTS = 20;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
