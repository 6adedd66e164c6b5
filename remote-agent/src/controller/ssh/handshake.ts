/**
 * The SSH handshake on an open stream: the server's host key checked against known_hosts (an unknown
 * key refused with its fingerprint unless accepting new keys, a changed one always refused), host key
 * algorithms ordered so the server offers a key type known_hosts has (as OpenSSH does), then public-key
 * authentication; one timeout, paused while a passphrase callback runs.
 */
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import { AuthPlan, type AuthOptions } from './auth';
import { describeDestination, type SshDestination } from './config';
import { SshError, socketError } from './errors';
import { addHostKey, checkHostKey, fingerprint, keyType, knownHostsName, knownKeyTypes } from './known-hosts';

const DEFAULT_KEEPALIVE_MS = 15_000;
const DEFAULT_KEEPALIVE_COUNT = 3;

/** ssh2's host key algorithms, and which of them produce each known_hosts key type. */
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] as const;
const ALGORITHMS_FOR_TYPE: Record<string, readonly string[]> = { 'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] };

export interface HandshakeOptions extends AuthOptions {
  /** Add an unknown host key to known_hosts (hashed) instead of refusing. A changed key is always refused. */
  acceptNewHostKey?: boolean;
  /** Default ServerAliveInterval, else 15 s. */
  keepaliveIntervalMs?: number;
  /** Default ServerAliveCountMax, else 3. */
  keepaliveCountMax?: number;
  log?: (line: string) => void;
}

function orderedHostKeyAlgorithms(knownTypes: readonly string[]): string[] {
  const preferred = knownTypes.flatMap((t) => ALGORITHMS_FOR_TYPE[t] ?? [t]).filter((a) => (HOST_KEY_ALGORITHMS as readonly string[]).includes(a));
  return [...new Set([...preferred, ...HOST_KEY_ALGORITHMS])];
}

/** SSH handshake and authentication on an open stream, with the host key checked against known_hosts. */
export function handshake(client: Client, destination: SshDestination, options: HandshakeOptions, sock: Duplex, timeoutMs: number): Promise<void> {
  const where = describeDestination(destination);
  const knownHostsFiles = [...destination.userKnownHostsFiles, ...destination.globalKnownHostsFiles];
  const name = destination.hostKeyAlias ?? knownHostsName(destination.host, destination.port);
  const acceptNew = options.acceptNewHostKey ?? destination.acceptNewHostKey;
  return new Promise((resolve, reject) => {
    let failure: SshError | undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const startTimer = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        finish(new SshError('timeout', `ssh: no SSH handshake with ${where} within ${timeoutMs} ms`, 'the port answers but no sshd responds in time'));
        client.destroy();
      }, timeoutMs);
    };
    let plan: AuthPlan | undefined;
    const hostVerifier = (key: Buffer): boolean => {
      const check = checkHostKey(knownHostsFiles, name, key);
      const presented = `${keyType(key)} ${fingerprint(key)}`;
      switch (check.status) {
        case 'known':
          return true;
        case 'revoked':
          failure = new SshError('host-key-revoked', `ssh: the host key of ${where} (${presented}) is marked @revoked in ${check.entry.file}:${check.entry.line}`);
          return false;
        case 'changed':
          failure = new SshError('host-key-changed',
            `ssh: REFUSED: the host key of ${where} has CHANGED — it presents ${presented}, but known_hosts has ${check.expected.map((k) => `${k.type} ${k.fingerprint} (${k.file}:${k.line})`).join(', ')}`,
            'someone may be intercepting the connection, or the node was reinstalled: verify the new fingerprint out of band, then remove the old line (ssh-keygen -R)');
          return false;
        case 'unknown':
          if (check.otherKeys.length > 0) {
            failure = new SshError('host-key-changed',
              `ssh: REFUSED: ${where} presents ${presented}, a key type known_hosts has no entry for, while it has ${check.otherKeys.map((k) => `${k.type} ${k.fingerprint}`).join(', ')} for this host`,
              'verify the fingerprint out of band, then add the key (ssh-keyscan) to known_hosts');
            return false;
          }
          if (!acceptNew) {
            failure = new SshError('host-key-unknown',
              `ssh: REFUSED: the host key of ${where} is not in known_hosts (${destination.userKnownHostsFiles[0]}); it presents ${presented}`,
              'verify that fingerprint out of band, then retry with --accept-new-host-key (or StrictHostKeyChecking accept-new) to add it');
            return false;
          }
          addHostKey(destination.userKnownHostsFiles[0]!, name, key);
          options.log?.(`ssh: added ${presented} for ${name} to ${destination.userKnownHostsFiles[0]}`);
          return true;
      }
    };
    client.on('error', (err: Error & { level?: string }) => {
      if (failure) return finish(failure);
      if (err.level === 'client-authentication') {
        const tried = plan?.tried.length ? plan.tried.join('; ') : 'nothing (no ssh-agent keys and no identity file found)';
        const methods = plan?.serverMethods.length ? `; the server accepts: ${plan.serverMethods.join(', ')}` : '';
        return finish(new SshError('auth', `ssh: authentication as ${destination.user} to ${where} failed; tried: ${tried}${methods}`,
          'add one of these keys to the node\'s authorized_keys, or name the right IdentityFile / User in your ssh config'));
      }
      if (err.level === 'client-socket') return finish(socketError(err as NodeJS.ErrnoException, where));
      finish(new SshError('disconnected', `ssh: ${where}: ${err.message}`));
    });
    client.once('close', () => finish(failure ?? new SshError('disconnected', `ssh: ${where} closed the connection during the handshake`)));
    client.once('ready', () => finish());
    startTimer();
    void AuthPlan.create(destination, options, (waiting) => (waiting ? clearTimeout(timer) : startTimer())).then((created) => {
      plan = created;
      client.connect({
        sock,
        username: destination.user,
        hostVerifier,
        authHandler: created.handler(),
        readyTimeout: 0,
        keepaliveInterval: options.keepaliveIntervalMs ?? destination.serverAliveIntervalMs ?? DEFAULT_KEEPALIVE_MS,
        keepaliveCountMax: options.keepaliveCountMax ?? destination.serverAliveCountMax ?? DEFAULT_KEEPALIVE_COUNT,
        algorithms: { serverHostKey: orderedHostKeyAlgorithms(knownKeyTypes(knownHostsFiles, name)) as never },
      });
    }, (err: Error) => finish(err));
  });
}
