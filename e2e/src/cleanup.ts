import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What a session leaves behind until it is disposed: process groups (code-server, chromium) and
 * temporary directories. If the test process ends without disposing (a failure, a signal), the
 * exit handlers kill the groups and remove the directories.
 */
const groups = new Set<number>();
const dirs = new Set<string>();
let handlersInstalled = false;

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone already
  }
}

function cleanUpNow(): void {
  for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
  groups.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', cleanUpNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUpNow();
      process.exit(128 + constants.signals[signal]);
    });
  }
}

/** Track a process group (its leader's pid) until stopGroup. */
export function trackGroup(pgid: number): void {
  installHandlers();
  groups.add(pgid);
}

/** SIGTERM the whole group, SIGKILL what is left after graceMs, and forget it. */
export async function stopGroup(pgid: number, graceMs = 3000): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(50);
  signalGroup(pgid, 'SIGKILL');
  groups.delete(pgid);
}

/** A new temporary directory, removed by removeTempDir or when the process ends. */
export function makeTempDir(prefix: string): string {
  installHandlers();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}
