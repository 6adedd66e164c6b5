import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, normalize, relative } from 'node:path';
import { UsageFailure } from './exit-codes';

/**
 * The cgroups `ebpf-studio run` attaches to: found below the cgroup2 mount (detected, never assumed, and
 * never the mount itself), created when missing, removed on exit (only those it created), and processes
 * started inside them from an argument array.
 */

const EMPTY_WAIT_MS = 3000;

/** The cgroup v2 mount point in /proc/mounts text (its octal escapes, e.g. \040 for a space, decoded). */
export function findCgroup2Mount(mounts: string): string | undefined {
  for (const line of mounts.split('\n')) {
    const [, mountPoint, type] = line.split(' ');
    if (type === 'cgroup2' && mountPoint) return mountPoint.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  }
  return undefined;
}

export function localCgroup2Mount(): string {
  const mount = findCgroup2Mount(readFileSync('/proc/mounts', 'utf8'));
  if (!mount) throw new UsageFailure('no cgroup2 file system is mounted on this machine: mount one (mount -t cgroup2 none /sys/fs/cgroup/unified)');
  return mount;
}

/** A cgroup path of ebpf-studio.yaml (relative to the mount, or absolute inside it) as an absolute path strictly below the mount. */
export function cgroupBelow(mount: string, path: string): string {
  const full = normalize(isAbsolute(path) ? path : join(mount, path)).replace(/(.)\/+$/, '$1');
  const rel = relative(mount, full);
  if (rel === '') {
    throw new UsageFailure(`cgroup "${path}" is the cgroup2 root (${mount}): programs there would steer every process on the machine; name a cgroup below it, e.g. ebpf-studio/orders`);
  }
  if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) throw new UsageFailure(`cgroup "${path}" is not below the cgroup2 mount ${mount}`);
  return full;
}

/** Creates `path` (below `mount`) and its missing parents; returns the directories created, outermost first. */
export function ensureCgroup(mount: string, path: string): string[] {
  const created: string[] = [];
  let current = mount;
  for (const part of relative(mount, path).split('/')) {
    current = join(current, part);
    if (existsSync(current)) continue;
    try {
      mkdirSync(current);
      created.push(current);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return created;
}

function hasChildCgroups(path: string): boolean {
  return readdirSync(path).some((entry) => statSync(join(path, entry)).isDirectory());
}

function populated(path: string): boolean {
  return /^populated 1$/m.test(readFileSync(join(path, 'cgroup.events'), 'utf8'));
}

/**
 * Removes cgroups this run created, innermost first. One without child cgroups is ours alone: what still
 * runs inside is killed (cgroup.kill) first. One that holds someone else's cgroup now is left alone.
 * Returns the directories that had to stay.
 */
export async function removeCgroups(created: readonly string[]): Promise<string[]> {
  const kept: string[] = [];
  for (const path of [...created].reverse()) {
    if (!existsSync(path)) continue;
    if (hasChildCgroups(path)) {
      kept.push(path);
      continue;
    }
    if (populated(path)) writeFileSync(join(path, 'cgroup.kill'), '1');
    const deadline = Date.now() + EMPTY_WAIT_MS;
    for (;;) {
      try {
        rmdirSync(path);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || Date.now() > deadline) {
          kept.push(path);
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
  return kept;
}

/**
 * A fixed program for `node -e`: it moves itself into the cgroup (argv[1] is its cgroup.procs) and only then
 * starts the command from the rest of argv, so the command's first connect is already steered. No shell.
 */
const JOIN_THEN_SPAWN = `'use strict';
const [procs, cmd, ...args] = process.argv.slice(1);
try { require('node:fs').writeFileSync(procs, String(process.pid)); } catch (e) {
  process.stderr.write('ebpf-studio: cannot join the cgroup (' + procs + '): ' + (e.code || e.message) + '\\n');
  process.exit(126);
}
const child = require('node:child_process').spawn(cmd, args, { stdio: 'inherit' });
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => child.kill(s));
child.on('error', (e) => { process.stderr.write('ebpf-studio: cannot run ' + cmd + ': ' + (e.code || e.message) + '\\n'); process.exit(127); });
child.on('exit', (code, signal) => process.exit(code === null ? 128 + (require('node:os').constants.signals[signal] || 0) : code));
`;

/** Start `cmd args…` inside the cgroup at `path` (an argument array: nothing reaches a shell). */
export function spawnInCgroup(path: string, cmd: string, args: readonly string[], stdio: StdioOptions = 'inherit'): ChildProcess {
  return spawn(process.execPath, ['-e', JOIN_THEN_SPAWN, '--', join(path, 'cgroup.procs'), cmd, ...args], { stdio });
}
