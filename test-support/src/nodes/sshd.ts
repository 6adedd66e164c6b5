import { execFileSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { TestNetns } from '../netns';
import type { AccountFiles } from './accounts';
import { generateKey, type KeyPair } from './keys';

/** Ports every node's sshd listens on: 22 and one more, so `[host]:port` known_hosts entries are tested. */
export const SSH_PORTS = [22, 2222] as const;
const READY_TIMEOUT_MS = 5000;

/**
 * Runs inside the node's network namespace as
 * `sh -c SCRIPT ebst-node HOME TMP PASSWD SHADOW GROUP CFG LOG EMPTY EMPTIED_DIRS HIDDEN_FILES...`:
 * a private mount namespace (unshare) gets its own /run, HOME, /tmp and account files; the directories
 * in EMPTIED_DIRS (':'-separated) are covered with an empty tmpfs (a kernel without BTF) and the files in
 * HIDDEN_FILES with an empty non-executable file (no Node.js, no libbpf); then sshd runs in the foreground.
 * Everything mounted here disappears with the namespace's last process.
 */
const NODE_START_SCRIPT = [
  'set -e',
  'mount -t tmpfs -o mode=755 ebpf-studio-run /run',
  'mkdir -m 755 /run/sshd',
  'mount --bind "$1" /root',
  'mount --bind "$2" /tmp',
  'mount --bind "$3" /etc/passwd',
  'mount --bind "$4" /etc/shadow',
  'mount --bind "$5" /etc/group',
  'cfg=$6; log=$7; empty=$8; emptied=$9; shift 9',
  'IFS=:; for dir in $emptied; do mount -t tmpfs -o mode=755 ebpf-studio-empty "$dir"; done; unset IFS',
  'for hidden in "$@"; do mount --bind "$empty" "$hidden"; done',
  'exec /usr/sbin/sshd -D -f "$cfg" -E "$log"',
].join('\n');

export interface SshdPaths {
  /** Root's private HOME inside the node (bind-mounted over /root). */
  readonly rootHome: string;
  readonly tmp: string;
  readonly config: string;
  readonly log: string;
  readonly authorizedKeys: string;
  readonly hostKeyPaths: readonly string[];
  /** An empty file mounted over each hidden executable. */
  readonly empty: string;
}

export function sshdPaths(dir: string): SshdPaths {
  return {
    rootHome: join(dir, 'root-home'),
    tmp: join(dir, 'tmp'),
    config: join(dir, 'sshd_config'),
    log: join(dir, 'sshd.log'),
    authorizedKeys: join(dir, 'authorized_keys'),
    hostKeyPaths: [join(dir, 'ssh_host_ed25519_key'), join(dir, 'ssh_host_ecdsa_key')],
    empty: join(dir, 'hidden-executable'),
  };
}

/** Generates (or regenerates) the node's host keys: ed25519 and ECDSA, so known_hosts holds two types. */
export function generateHostKeys(paths: SshdPaths): KeyPair[] {
  return paths.hostKeyPaths.map((path) => generateKey(path, path.includes('ed25519') ? 'ed25519' : 'ecdsa', { comment: 'ebpf-studio-test-host' }));
}

export function writeSshdConfig(paths: SshdPaths): void {
  writeFileSync(paths.config, [
    ...SSH_PORTS.map((p) => `Port ${p}`),
    ...paths.hostKeyPaths.map((k) => `HostKey ${k}`),
    `AuthorizedKeysFile ${paths.authorizedKeys}`,
    'PidFile none',
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    'LogLevel VERBOSE',
    '',
  ].join('\n'));
  writeFileSync(paths.empty, '', { mode: 0o644 });
}

/** Starts sshd in the node's namespaces; resolves when it accepts TCP connections on `address`:22. */
export interface NodeMounts {
  /** Directories that appear empty inside the node. */
  readonly emptied: readonly string[];
  /** Files replaced by an empty, non-executable file inside the node. */
  readonly hidden: readonly string[];
}

export async function startSshd(netns: TestNetns, paths: SshdPaths, accounts: AccountFiles, mounts: NodeMounts, address: string): Promise<ChildProcess> {
  const child = netns.spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', NODE_START_SCRIPT, 'ebst-node',
    paths.rootHome, paths.tmp, accounts.passwd, accounts.shadow, accounts.group, paths.config, paths.log, paths.empty,
    mounts.emptied.join(':'), ...mounts.hidden], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`sshd in ${netns.name} exited (${signal ?? `code ${code}`}): ${stderr.trim()}`)));
  });
  exited.catch(() => undefined);
  await Promise.race([waitForPort(address, SSH_PORTS[0], READY_TIMEOUT_MS), exited]);
  return child;
}

/** Resolves when something accepts a TCP connection on address:port, retrying until timeoutMs. */
export async function waitForPort(address: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: address, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${address}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The host key sshd at address:port serves now (ssh-keyscan), as `<type> <base64>`. */
export function scanHostKey(address: string, port: number, type: 'ed25519' | 'ecdsa'): string | undefined {
  try {
    const out = execFileSync('ssh-keyscan', ['-T', '2', '-p', String(port), '-t', type, address], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const line = out.split('\n').find((l) => l && !l.startsWith('#'));
    return line?.split(/\s+/).slice(1, 3).join(' ');
  } catch {
    return undefined;
  }
}
