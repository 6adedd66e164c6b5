import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/** An OpenSSH key pair made with ssh-keygen. */
export interface KeyPair {
  readonly privatePath: string;
  readonly publicPath: string;
  /** `<type> <base64>` as in authorized_keys and known_hosts. */
  readonly publicKey: string;
  /** `SHA256:...` as OpenSSH prints it. */
  readonly fingerprint: string;
}

export type KeyType = 'ed25519' | 'ecdsa' | 'rsa';

function keygen(args: readonly string[]): string {
  return execFileSync('ssh-keygen', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Writes a new key pair at `path` (+ `.pub`), overwriting one that is there. */
export function generateKey(path: string, type: KeyType, options: { passphrase?: string; comment?: string } = {}): KeyPair {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  keygen(['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', options.passphrase ?? '', '-C', options.comment ?? 'ebpf-studio-test', '-f', path]);
  return readKeyPair(path);
}

export function readKeyPair(path: string): KeyPair {
  const [type, base64] = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/);
  const fingerprint = keygen(['-l', '-E', 'sha256', '-f', `${path}.pub`]).split(/\s+/)[1] ?? '';
  return { privatePath: path, publicPath: `${path}.pub`, publicKey: `${type} ${base64}`, fingerprint };
}

/** The name a known_hosts line gives a host: `host` on port 22, `[host]:port` elsewhere. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * Writes a known_hosts file with every (name, key) pair, hashed the way Debian's `HashKnownHosts yes`
 * leaves it (`|1|salt|hash`), by OpenSSH's own `ssh-keygen -H`.
 */
export function writeHashedKnownHosts(path: string, entries: readonly { names: readonly string[]; publicKey: string }[]): void {
  writeFileSync(path, entries.flatMap((e) => e.names.map((name) => `${name} ${e.publicKey}\n`)).join(''), { mode: 0o600 });
  keygen(['-H', '-f', path]);
  rmSync(`${path}.old`, { force: true });
}
