import { chmodSync, mkdirSync } from 'node:fs';
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
