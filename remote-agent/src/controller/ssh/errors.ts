export type SshErrorKind =
  | 'config'
  | 'timeout'
  | 'unreachable'
  | 'refused'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'host-key-revoked'
  | 'auth'
  | 'disconnected'
  | 'channel';

/** A failure to reach or use a node over SSH; `fix` says what the user can do about it. */
export class SshError extends Error {
  constructor(readonly kind: SshErrorKind, message: string, readonly fix?: string) {
    super(fix ? `${message} — ${fix}` : message);
    this.name = 'SshError';
  }
}

/** A socket failure, said for people. */
export function socketError(err: NodeJS.ErrnoException, where: string): SshError {
  switch (err.code) {
    case 'ECONNREFUSED':
      return new SshError('refused', `ssh: ${where} refused the connection`, 'is sshd running there, on that port?');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new SshError('unreachable', `ssh: no route to ${where} (${err.code})`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SshError('unreachable', `ssh: cannot resolve the host name of ${where} (${err.code})`, 'check HostName in your ssh config');
    default:
      return new SshError('disconnected', `ssh: ${where}: ${err.message}`);
  }
}
