import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The unprivileged account every test node has besides root (only inside the node's mount namespace). */
export const NODE_USER = 'studio';

export interface AccountFiles {
  readonly passwd: string;
  readonly shadow: string;
  readonly group: string;
  readonly uid: number;
}

function usedIds(file: string, field: number): Set<number> {
  return new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => Number(line.split(':')[field])));
}

/**
 * Copies of the machine's /etc/passwd, /etc/shadow and /etc/group with one more user, for bind mounts
 * inside a node's own mount namespace: the machine's account database is never touched. The user has
 * no password (`*`, which OpenSSH does not treat as locked) and logs in with keys only.
 */
export function writeAccountFiles(dir: string, home: string): AccountFiles {
  const uids = usedIds('/etc/passwd', 2);
  const gids = usedIds('/etc/group', 2);
  let uid = 4200;
  while (uids.has(uid) || gids.has(uid)) uid += 1;
  const files = { passwd: join(dir, 'passwd'), shadow: join(dir, 'shadow'), group: join(dir, 'group') };
  const append = (from: string, to: string, line: string, mode: number): void => {
    const text = readFileSync(from, 'utf8');
    writeFileSync(to, `${text.endsWith('\n') ? text : `${text}\n`}${line}\n`, { mode });
  };
  append('/etc/passwd', files.passwd, `${NODE_USER}:x:${uid}:${uid}:eBPF Studio test user:${home}:/bin/sh`, 0o644);
  append('/etc/shadow', files.shadow, `${NODE_USER}:*:19000:0:99999:7:::`, 0o640);
  append('/etc/group', files.group, `${NODE_USER}:x:${uid}:`, 0o644);
  return { ...files, uid };
}
