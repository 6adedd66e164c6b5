import { chmodSync, lchownSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** An unprivileged user to run code-server as (and so its extension host and everything that starts). */
export interface RunAs {
  uid: number;
  gid: number;
}

/** nobody: no root, no capabilities, no sudo rights. */
export const NOBODY: RunAs = { uid: 65534, gid: 65534 };

/** The command prefix that runs a program as `user`: no supplementary groups, no inheritable capabilities. */
export function setprivPrefix(user: RunAs): string[] {
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--inh-caps=-all'];
}

/** Make `path` and everything under it belong to `user`. */
export function handOver(path: string, user: RunAs): void {
  lchownSync(path, user.uid, user.gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) handOver(child, user);
    else lchownSync(child, user.uid, user.gid);
  }
}

/** Let other users reach (not list) what is inside `dir`, e.g. a 0700 temporary directory. */
export function makeTraversable(dir: string): void {
  chmodSync(dir, 0o711);
}
