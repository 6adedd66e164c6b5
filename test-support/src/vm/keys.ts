import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec';

/** The two keys a VM image is made with: generated once, kept in the cache, baked into every image. */
export interface VmKeys {
  /** The guest's sshd host key (private part is copied into the image). */
  readonly hostKey: string;
  readonly hostPublicKey: string;
  /** root's key: its public part is root's authorized_keys in the image. */
  readonly userKey: string;
  readonly userPublicKey: string;
}

/** Reads the cached keys, generating the missing ones (call under the build lock). */
export async function cachedKeys(dir: string): Promise<VmKeys> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hostKey = await ensureKey(join(dir, 'ssh_host_ed25519_key'), 'ebpf-studio-vm-host');
  const userKey = await ensureKey(join(dir, 'root_ed25519_key'), 'ebpf-studio-vm-root');
  return { hostKey, hostPublicKey: publicKey(hostKey), userKey, userPublicKey: publicKey(userKey) };
}

async function ensureKey(path: string, comment: string): Promise<string> {
  if (existsSync(path) && existsSync(`${path}.pub`)) return path;
  const temp = `${path}.tmp-${process.pid}`;
  rmSync(temp, { force: true });
  rmSync(`${temp}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', temp]);
  renameSync(`${temp}.pub`, `${path}.pub`);
  renameSync(temp, path);
  return path;
}

/** `<type> <base64>` without the comment. */
function publicKey(path: string): string {
  return readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

/** Writes a known_hosts file with one entry for `[host]:port`, hashed by `ssh-keygen -H`. */
export async function writeKnownHosts(path: string, host: string, port: number, hostPublicKey: string): Promise<void> {
  writeFileSync(path, `[${host}]:${port} ${hostPublicKey}\n`, { mode: 0o600 });
  await run('ssh-keygen', ['-H', '-f', path]);
  rmSync(`${path}.old`, { force: true });
}
