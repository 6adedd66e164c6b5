import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onProcessExit } from '@ebpf-studio/test-support';
import { killProcessesWithEnv } from './processes';

/**
 * What a session leaves behind until it is disposed: process groups (code-server, chromium), the
 * processes of a code-server run as another user (found by their environment) and temporary
 * directories. If the test process ends without disposing (a failure, a signal), the exit handlers
 * kill the processes and remove the directories.
 */
const forgetters = new Map<number | string, () => void>();

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

function forget(key: number | string): void {
  forgetters.get(key)?.();
  forgetters.delete(key);
}

/** Track a process group (its leader's pid) until stopGroup. */
export function trackGroup(pgid: number): void {
  forgetters.set(pgid, onProcessExit(() => signalGroup(pgid, 'SIGKILL')));
}

/** SIGTERM the whole group, SIGKILL what is left after graceMs, and forget it. */
export async function stopGroup(pgid: number, graceMs = 3000): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(50);
  signalGroup(pgid, 'SIGKILL');
  forget(pgid);
}

/** Track the processes whose environment holds `variable` (also those that left their group) until stopProcesses. */
export function trackProcesses(variable: string): void {
  forgetters.set(variable, onProcessExit(() => killProcessesWithEnv(variable)));
}

/** SIGKILL every process whose environment holds `variable`, and forget them. */
export function stopProcesses(variable: string): void {
  killProcessesWithEnv(variable);
  forget(variable);
}

/** A new temporary directory, removed by removeTempDir or when the process ends. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  forgetters.set(dir, onProcessExit(() => rmSync(dir, { recursive: true, force: true })));
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  forget(dir);
}
