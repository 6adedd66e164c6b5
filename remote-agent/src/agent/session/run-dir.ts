import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where sessions keep their sockets, descriptions and journals: private to the user (0700). */
export function runDir(): string {
  const dir = process.env['EBPF_STUDIO_RUN_DIR'] ?? join(homedir(), '.cache', 'ebpf-studio', 'run');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

export const SESSION_ID = /^[0-9a-f]{16}$/;

export function sessionPaths(id: string): { socket: string; journal: string } {
  if (!SESSION_ID.test(id)) throw new Error(`not a session id: ${JSON.stringify(id)}`);
  const dir = runDir();
  return { socket: join(dir, `${id}.sock`), journal: join(dir, `${id}.journal`) };
}

/** How many logs of ended sessions the run directory keeps (their last words when one crashed). */
export const ENDED_SESSION_LOGS_KEPT = 20;

/**
 * Removes the logs of ended sessions (no socket, no journal left) beyond the newest `keep`, so a node
 * that opens sessions all day does not collect one file per session forever. Returns how many went.
 */
export function pruneSessionLogs(keep = ENDED_SESSION_LOGS_KEPT): number {
  const dir = runDir();
  const ended = readdirSync(dir)
    .map((f) => /^([0-9a-f]{16})\.log$/.exec(f)?.[1])
    .filter((id): id is string => id !== undefined)
    .filter((id) => !existsSync(join(dir, `${id}.sock`)) && !existsSync(join(dir, `${id}.journal`)))
    .map((id) => {
      const path = join(dir, `${id}.log`);
      return { path, mtime: statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0 };
    })
    .sort((a, b) => b.mtime - a.mtime);
  const old = ended.slice(keep);
  for (const { path } of old) rmSync(path, { force: true });
  return old.length;
}
