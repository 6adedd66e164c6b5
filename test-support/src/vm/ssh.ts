import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { run, type RunResult } from './exec';

export interface SshTarget {
  /** The `Host` alias in `configFile`. */
  readonly alias: string;
  readonly configFile: string;
}

/** A `Host` block that pins everything about the connection: port, user, key, known_hosts, batch mode. */
export function writeSshConfig(path: string, alias: string, port: number, identityFile: string, knownHostsFile: string): void {
  writeFileSync(
    path,
    [
      `Host ${alias}`,
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      '  User root',
      `  IdentityFile ${identityFile}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${knownHostsFile}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  HashKnownHosts yes',
      '  BatchMode yes',
      '  ConnectTimeout 20',
      '  ServerAliveInterval 5',
      '  ServerAliveCountMax 6',
      '  LogLevel ERROR',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
}

/** Quotes one argument for the remote POSIX shell, so an argument array arrives as the same argv. */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** `ssh` arguments that run `argv` on the target (each argument quoted for the remote shell). */
export function sshArgs(target: SshTarget, argv: readonly string[]): string[] {
  return ['-F', target.configFile, target.alias, '--', ...argv.map(shellQuote)];
}

export function sshRun(target: SshTarget, argv: readonly string[], timeoutMs = 60_000): Promise<RunResult> {
  return run('ssh', sshArgs(target, argv), { timeoutMs });
}

/**
 * True once something on 127.0.0.1:`port` sends an SSH banner. QEMU's user-mode forward accepts TCP
 * connections before the guest listens (and then closes them), so an open port alone proves nothing.
 */
export function sshBanner(port: number, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('data', (chunk: Buffer) => done(chunk.toString('latin1').startsWith('SSH-')));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
